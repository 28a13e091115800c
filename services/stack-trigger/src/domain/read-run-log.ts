import { AppError } from '@stacklink/errors';
import type { RunLogPage } from '@stacklink/contracts';
import { TERMINAL_STATES } from './model';
import type { RunLogRepositoryPort, RunRepositoryPort } from './ports';

/**
 * A page of a run's log (`GET /runs/{id}/logs?after=&limit=`): the chunks after `after`, by seq, and
 * whether the log is complete — the run is final and nothing is stored after the last chunk answered.
 */
export function createReadRunLog(deps: { runs: RunRepositoryPort; logs: RunLogRepositoryPort }) {
  return async (runId: string, options: { after?: number; limit: number }): Promise<RunLogPage> => {
    // The run first: a chunk stored before the run became final is then always in the page read after.
    const run = await deps.runs.get(runId);
    if (run === undefined) throw new AppError('RUN.NOT_FOUND', `no run ${runId}`, { status: 404 });
    const { chunks, more, truncated } = await deps.logs.read(runId, options);
    return {
      runId,
      chunks,
      nextAfter: chunks.at(-1)?.seq ?? options.after ?? null,
      truncated,
      complete: TERMINAL_STATES.includes(run.state) && !more,
    };
  };
}
