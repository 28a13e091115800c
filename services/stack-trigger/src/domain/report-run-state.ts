import { AppError } from '@stacklink/errors';
import type { Logger } from '@stacklink/logger';
import { TERMINAL_STATES, type Run, type RunState, type RunSummary } from './model';
import type {
  RunActivityPort,
  RunEventsPort,
  RunQueuePort,
  RunRepositoryPort,
  StackRepositoryPort,
} from './ports';
import { dispatchRuns } from './queue-run';
import { canTransition } from './run-transitions';

export interface ReportRunStateDeps {
  stacks: StackRepositoryPort;
  runs: RunRepositoryPort;
  queue: RunQueuePort;
  runEvents: RunEventsPort;
  logger: Logger;
  /** Tells the run's log streams at once (they would see the change at their next poll otherwise). */
  activity?: RunActivityPort;
}

/**
 * A runner (or an operator) moves a run: only QUEUED→RUNNING→FINISHED|FAILED and QUEUED|RUNNING→CANCELED
 * (docs/architecture.md §4). Anything else, or a run that changed meanwhile, is a 409 that changes nothing.
 *
 * A report of the final state the run already has is still a 409, but it announces that state again
 * first: if the process that stored it died before announcing it, the runner's retry is what gets the
 * commit status out (the announcement is idempotent — same version, same message id).
 */
export function createReportRunState(deps: ReportRunStateDeps) {
  return async (runId: string, to: RunState, note?: string, summary?: RunSummary): Promise<Run> => {
    const run = await deps.runs.get(runId);
    if (run === undefined) throw new AppError('RUN.NOT_FOUND', `no run ${runId}`, { status: 404 });
    if (run.state === to && TERMINAL_STATES.includes(to)) {
      await settle(run);
      throw illegal(run, to);
    }
    if (!canTransition(run.state, to)) throw illegal(run, to);
    // Compare-and-set on the state we checked: a concurrent report cannot slip in between.
    // Runners never cancel (they stop and report nothing): a cancel through this route is an operator's.
    const moved = await deps.runs.transition(
      run.id,
      [run.state],
      to,
      note,
      to === 'CANCELED' ? { canceledBy: 'operator' } : summary === undefined ? {} : { summary },
    );
    if (!moved.ok) throw illegal(moved.run ?? run, to);
    if (to === 'RUNNING') {
      await deps.queue.renewLease(run.id);
      const stack = await deps.stacks.get(run.stackId);
      if (stack !== undefined) await deps.runEvents.publishStateChanged(moved.run, stack);
    } else {
      await settle(moved.run);
    }
    await deps.activity?.announce(run.id).catch((err: unknown) => {
      deps.logger.warn('run state announcement failed; streams will poll', { runId: run.id, err });
    });
    deps.logger.info('run state changed', {
      runId: run.id,
      stackId: run.stackId,
      from: run.state,
      to,
      version: moved.run.version,
    });
    return moved.run;
  };

  /** A run in a final state: out of the queue, its state announced, the next run of its stack handed out. */
  async function settle(run: Run): Promise<void> {
    await deps.queue.remove(run);
    const stack = await deps.stacks.get(run.stackId);
    if (stack === undefined) return;
    await deps.runEvents.publishStateChanged(run, stack);
    await dispatchRuns(deps, stack);
  }
}

function illegal(run: Run, to: RunState): AppError {
  return new AppError('RUN.ILLEGAL_TRANSITION', `run ${run.id} is ${run.state}: it cannot become ${to}`, {
    status: 409,
    details: { state: run.state, requested: to },
  });
}
