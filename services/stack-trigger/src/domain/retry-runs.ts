import type { CanonicalEvent } from './canonical-event';
import type { RetryPlan } from './decide-triggers';
import type { EventHandling } from './event-handling';
import type { Run } from './model';
import { queueRun, type QueueRunDeps } from './queue-run';

const RETRYABLE_STATES = ['FAILED', 'CANCELED'] as const;

export interface RetriedRuns {
  /** Runs the command asked for that did not exist yet. */
  created: Run[];
  /** Failed or canceled runs put back in the queue. */
  retried: Run[];
  /** Runs already queued, running or finished: nothing to retry. */
  existing: Run[];
  /** Runs an operator canceled: a comment does not undo an operator's decision (docs/architecture.md §12). */
  operatorCanceled: Run[];
}

/**
 * `/stacklink retry`: puts each failed or canceled run back in the queue (compare-and-set, so a second
 * delivery of the command moves nothing), or creates it when there is none.
 */
export function createRetryRuns(deps: Omit<QueueRunDeps, 'logger'>) {
  return async (
    event: CanonicalEvent,
    plans: readonly RetryPlan[],
    h: EventHandling,
  ): Promise<RetriedRuns> => {
    const out: RetriedRuns = { created: [], retried: [], existing: [], operatorCanceled: [] };
    const queueDeps = { ...deps, logger: h.log };
    for (const { run: input } of plans) {
      const stack = h.stacksById.get(input.stackId);
      if (stack === undefined) continue;
      const found = await deps.runs.find(input.stackId, input.commit, input.type);
      if (found === undefined) {
        const { run } = await queueRun(queueDeps, stack, input, h.publishes);
        out.created.push(run);
      } else if (found.state === 'CANCELED' && found.canceledBy === 'operator') {
        h.log.info('retry refused: the run was canceled by an operator', { runId: found.id });
        out.operatorCanceled.push(found);
        continue;
      } else {
        const note = `retried by comment ${commentIdOf(event)}`;
        const moved = await deps.runs.transition(found.id, RETRYABLE_STATES, 'QUEUED', note);
        if (!moved.ok) {
          if (found.state === 'QUEUED' && found.note === note) {
            // An earlier delivery of this very command moved it back to QUEUED and died before queueing
            // and announcing it: finish that (both idempotent), or the run would wait forever.
            const { run } = await queueRun(queueDeps, stack, input, h.publishes);
            out.retried.push(run);
            h.touchedStacks.add(stack);
          } else {
            out.existing.push(found);
          }
          continue;
        }
        await deps.queue.enqueue(moved.run);
        h.publishes.add(deps.runEvents.publishStateChanged(moved.run, stack));
        h.log.info('run retried', { runId: moved.run.id, stackId: stack.id });
        out.retried.push(moved.run);
      }
      h.touchedStacks.add(stack);
    }
    return out;
  };
}

function commentIdOf(event: CanonicalEvent): string {
  return event.type === 'pull_request.comment_added' ? String(event.comment.id) : event.id;
}
