import type { EventHandling } from './event-handling';
import type { NewRun, Run } from './model';
import { queueRun, type QueueRunDeps } from './queue-run';

/** Creates each decided run, idempotently on (stack, commit, type), and puts it in its stack's queue. */
export function createQueueTriggeredRuns(deps: Omit<QueueRunDeps, 'logger'>) {
  return async (
    inputs: readonly NewRun[],
    h: EventHandling,
  ): Promise<{ created: Run[]; existing: Run[] }> => {
    const created: Run[] = [];
    const existing: Run[] = [];
    for (const input of inputs) {
      const stack = h.stacksById.get(input.stackId);
      if (stack === undefined) continue;
      const queued = await queueRun({ ...deps, logger: h.log }, stack, input, h.publishes);
      (queued.created ? created : existing).push(queued.run);
      h.touchedStacks.add(stack);
    }
    return { created, existing };
  };
}
