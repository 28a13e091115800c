import { AppError } from '@stacklink/errors';
import type { Logger } from '@stacklink/logger';
import type { Run, RunState } from './model';
import type { RunEventsPort, RunQueuePort, RunRepositoryPort, StackRepositoryPort } from './ports';
import { dispatchRuns } from './queue-run';
import { canTransition } from './run-transitions';

export interface ReportRunStateDeps {
  stacks: StackRepositoryPort;
  runs: RunRepositoryPort;
  queue: RunQueuePort;
  runEvents: RunEventsPort;
  logger: Logger;
}

/**
 * A runner (or an operator) moves a run: only QUEUED→RUNNING→FINISHED|FAILED and QUEUED|RUNNING→CANCELED
 * (DESIGN.md §4). Anything else, or a run that changed meanwhile, is a 409 that changes nothing.
 */
export function createReportRunState(deps: ReportRunStateDeps) {
  return async (runId: string, to: RunState, note?: string): Promise<Run> => {
    const run = await deps.runs.get(runId);
    if (run === undefined) throw new AppError('RUN.NOT_FOUND', `no run ${runId}`, { status: 404 });
    if (!canTransition(run.state, to)) throw illegal(run, to);
    // Compare-and-set on the state we checked: a concurrent report cannot slip in between.
    const moved = await deps.runs.transition(run.id, [run.state], to, note);
    if (!moved.ok) throw illegal(moved.run ?? run, to);
    const stack = await deps.stacks.get(run.stackId);
    if (to === 'RUNNING') {
      await deps.queue.renewLease(run.id);
    } else {
      await deps.queue.remove(run);
    }
    if (stack !== undefined) {
      await deps.runEvents.publishStateChanged(moved.run, stack);
      if (to !== 'RUNNING') await dispatchRuns(deps, stack);
    }
    deps.logger.info('run state changed', {
      runId: run.id,
      stackId: run.stackId,
      from: run.state,
      to,
      version: moved.run.version,
    });
    return moved.run;
  };
}

function illegal(run: Run, to: RunState): AppError {
  return new AppError('RUN.ILLEGAL_TRANSITION', `run ${run.id} is ${run.state}: it cannot become ${to}`, {
    status: 409,
    details: { state: run.state, requested: to },
  });
}
