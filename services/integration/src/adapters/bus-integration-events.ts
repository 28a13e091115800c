import { randomUUID } from 'node:crypto';
import type { Bus, Topology } from '@stacklink/bus';
import { isAppError } from '@stacklink/errors';
import type { IntegrationEventsPort } from '../domain/ports';

export const INTEGRATION_EVENTS_EXCHANGE = 'integration.events';

/** What this service asserts on the broker: it only publishes; consumers bind their own queues. */
export const integrationTopology: Topology = {
  exchanges: [{ name: INTEGRATION_EVENTS_EXCHANGE, type: 'topic' }],
  queues: [],
};

/** integration.* events on `integration.events`, routing key = type, confirmed by the broker. */
export function createBusIntegrationEvents(bus: Pick<Bus, 'publish'>): IntegrationEventsPort {
  return {
    async publish(event) {
      try {
        await bus.publish(INTEGRATION_EVENTS_EXCHANGE, event.type, event, {
          messageId: randomUUID(),
          headers: { integrationId: event.integrationId },
        });
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
