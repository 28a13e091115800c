import type { CancelPlan } from './decide-triggers';
import type { EventHandling } from './event-handling';
import type { Run } from './model';
import type { RunEventsPort, RunQueuePort, RunRepositoryPort } from './ports';

/**
 * Cancels the still-queued proposed runs the decision names (superseded by a newer commit, or of a
 * declined or merged pull request), takes them out of the queue and announces each.
 */
export function createCancelSupersededRuns(deps: {
  runs: RunRepositoryPort;
  queue: RunQueuePort;
  runEvents: RunEventsPort;
}) {
  return async (plans: readonly CancelPlan[], h: EventHandling): Promise<Run[]> => {
    const canceled: Run[] = [];
    for (const plan of plans) {
      const runs = await deps.runs.cancelQueuedProposed({ ...plan, note: plan.reason });
      for (const run of runs) {
        await deps.queue.remove(run);
        const stack = h.stacksById.get(run.stackId);
        if (stack !== undefined) {
          h.publishes.add(deps.runEvents.publishStateChanged(run, stack));
          h.touchedStacks.add(stack);
        }
        h.log.info('run canceled', { runId: run.id, stackId: run.stackId, reason: plan.reason });
      }
      canceled.push(...runs);
    }
    return canceled;
  };
}
