import { AppError } from '@stacklink/errors';
import type { Run } from './model';
import type { RunQueuePort, RunRepositoryPort } from './ports';

/**
 * A runner working on a run keeps its lease alive (docs/decisions/004): without a renewal or a state
 * report within RUN_LEASE_SECONDS the run is taken back. Only a handed-out QUEUED or RUNNING run has a
 * lease; anything else is a 409, so a runner learns at once that the run was canceled or taken back.
 */
export function createRenewRunLease(deps: { runs: RunRepositoryPort; queue: RunQueuePort }) {
  return async (runId: string): Promise<Pick<Run, 'id' | 'state' | 'version'>> => {
    const run = await deps.runs.get(runId);
    if (run === undefined) throw new AppError('RUN.NOT_FOUND', `no run ${runId}`, { status: 404 });
    if (run.state !== 'RUNNING' && run.state !== 'QUEUED') {
      throw new AppError('RUN.NOT_ACTIVE', `run ${run.id} is ${run.state}: it has no lease to renew`, {
        status: 409,
        details: { state: run.state },
      });
    }
    if (!(await deps.queue.renewLease(run.id))) {
      throw new AppError('RUN.NO_LEASE', `run ${run.id} is not handed out to a runner (its lease expired)`, {
        status: 409,
        details: { state: run.state },
      });
    }
    return { id: run.id, state: run.state, version: run.version };
  };
}
