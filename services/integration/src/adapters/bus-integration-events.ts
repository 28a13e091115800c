import type { Bus } from '@stacklink/bus';
import { publishIntegrationEvent } from '@stacklink/contracts';
import { isAppError } from '@stacklink/errors';
import type { IntegrationEventsPort } from '../domain/ports';

/** integration.* events on `integration.events` (@stacklink/contracts), confirmed by the broker. */
export function createBusIntegrationEvents(bus: Pick<Bus, 'publish'>): IntegrationEventsPort {
  return {
    async publish(event) {
      try {
        await publishIntegrationEvent(bus, event);
      } catch (err) {
        // The bus publishes as mandatory: "unroutable" means no consumer has bound a queue yet. Nobody
        // holds a cache to drop, and a consumer that binds later reads fresh state, so nothing is lost.
        if (isAppError(err) && (err.details as { reason?: unknown } | undefined)?.reason === 'unroutable')
          return;
        throw err;
      }
    },
  };
}
