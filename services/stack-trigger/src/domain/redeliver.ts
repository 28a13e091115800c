import { AppError } from '@stacklink/errors';
import type { DeliveryHistoryPort, RedeliveryPort } from './ports';

/**
 * `POST /deliveries/{deliveryId}/redeliver` (docs/architecture.md §13): publishes the accepted event again
 * under a new event id that points at the original. Consumers are idempotent (one run per stack, commit
 * and type), so the redelivery creates only what is missing. DELIVERY.NOT_FOUND (404) for an unknown
 * delivery; DELIVERY.NOT_ACCEPTED (409) for one the gateway never accepted, or whose event has not been
 * decided yet (nothing to repeat).
 */
export function createRedeliver(deps: {
  history: DeliveryHistoryPort;
  redelivery: RedeliveryPort;
  newEventId: () => string;
}) {
  return async (deliveryId: string): Promise<{ eventId: string; redeliveryOf: string }> => {
    const entry = await deps.history.get(deliveryId);
    if (entry.records.length === 0 && entry.decisions.length === 0)
      throw new AppError('DELIVERY.NOT_FOUND', `no delivery ${deliveryId}`, { status: 404 });
    const original = entry.decisions.find((d) => d.redeliveryOf === undefined) ?? entry.decisions[0];
    if (original === undefined) {
      const accepted = entry.records.some((r) => r.outcome === 'accepted');
      throw new AppError(
        'DELIVERY.NOT_ACCEPTED',
        accepted
          ? `delivery ${deliveryId} was accepted but its event is not decided yet; try again shortly`
          : `delivery ${deliveryId} was never accepted (${entry.records.map((r) => r.outcome).join(', ')}): there is no event to redeliver`,
        { status: 409 },
      );
    }
    const originalEventId = original.redeliveryOf ?? original.eventId;
    const eventId = deps.newEventId();
    await deps.redelivery.redeliver({ ...original.event, id: eventId }, originalEventId);
    return { eventId, redeliveryOf: originalEventId };
  };
}
