import type { Bus } from '@stacklink/bus';
import { publishStackEvent } from '@stacklink/contracts';
import type { Logger } from '@stacklink/logger';
import type { StackEventsPort } from '../domain/ports';

/**
 * Stack changes on `stack.events`. Best effort: with no reconciler running, no queue is bound and the
 * broker returns the message; the stack change stands, and a reconciler finds it at its next interval
 * (docs/architecture.md §14), so a failed announcement is logged, never an API error.
 */
export function createBusStackEvents(bus: Pick<Bus, 'publish'>, logger: Logger): StackEventsPort {
  return {
    async stackChanged(type, stack) {
      try {
        await publishStackEvent(bus, {
          type,
          stackId: stack.id,
          integrationId: stack.integrationId,
          repository: { projectKey: stack.repository.projectKey, slug: stack.repository.slug },
          occurredAt: new Date().toISOString(),
        });
      } catch (err) {
        logger.info('stack change not announced; the reconciler finds it at its next interval', {
          stackId: stack.id,
          type,
          err,
        });
      }
    },
  };
}
