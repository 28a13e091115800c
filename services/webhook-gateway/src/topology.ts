import type { Topology } from '@stacklink/bus';
import { VCS_EVENTS_EXCHANGE } from '@stacklink/events';

export const INTEGRATION_EVENTS_EXCHANGE = 'integration.events';

/** Each replica's own queue for cache invalidation; it lives only as long as the replica's connection. */
export const INTEGRATION_EVENTS_QUEUE = (instance: string) =>
  `webhook-gateway.integration-events.${instance}`;

export function gatewayTopology(instance: string): Topology {
  return {
    exchanges: [{ name: VCS_EVENTS_EXCHANGE }, { name: INTEGRATION_EVENTS_EXCHANGE }],
    queues: [
      {
        name: INTEGRATION_EVENTS_QUEUE(instance),
        bindings: [{ exchange: INTEGRATION_EVENTS_EXCHANGE, pattern: 'integration.#' }],
        transient: true,
      },
    ],
  };
}
