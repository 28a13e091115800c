import type { EventHandling } from './event-handling';
import type { Run } from './model';
import type {
  RunEventsPort,
  RunQueuePort,
  RunRepositoryPort,
  StackRepositoryPort,
  TriggerMetricsPort,
} from './ports';
import { cancelQueuedRunsOf, stackDisabledNote } from './queue-run';

/**
 * A stack disabled while this event was handled (after its stacks were listed, before its runs were
 * created) must not keep them: disabling cancels the queued runs that exist when it does. So each stack
 * that got a run is read again; one disabled by now has its queued runs canceled here, as disabling does,
 * and leaves the stacks to dispatch. Either this read sees the disable, or the disable's cancel, which
 * comes after it, sees the run.
 */
export function createCancelRunsOfDisabledStacks(deps: {
  stacks: StackRepositoryPort;
  runs: RunRepositoryPort;
  queue: RunQueuePort;
  runEvents: RunEventsPort;
  metrics: TriggerMetricsPort;
}) {
  return async (h: EventHandling): Promise<Run[]> => {
    const canceled: Run[] = [];
    for (const stack of [...h.touchedStacks]) {
      const current = await deps.stacks.get(stack.id);
      if (current?.enabled !== false) continue;
      h.touchedStacks.delete(stack);
      const runs = await cancelQueuedRunsOf(
        deps,
        current,
        stackDisabledNote(current.disabledReason),
        h.publishes,
      );
      canceled.push(...runs);
      if (runs.length > 0) deps.metrics.runsCanceled(runs.length);
      h.log.info('queued runs of a stack disabled meanwhile canceled', {
        stackId: stack.id,
        runIds: runs.map((r) => r.id),
      });
    }
    return canceled;
  };
}
