import type { Bus, ConsumerHandle } from '@stacklink/bus';
import { DELIVERY_RECORDS_QUEUE, subscribeDeliveryRecords } from '@stacklink/contracts';
import type { DeliveryHistoryPort } from '../domain/ports';

/**
 * `stack-trigger.delivery-records`: the gateway's batches of delivery records (docs/architecture.md §13),
 * stored as they come. Storing is idempotent, so a batch delivered again changes nothing; a store error
 * is retried by the bus.
 */
export function consumeDeliveryRecords(
  bus: Bus,
  deps: { history: Pick<DeliveryHistoryPort, 'saveRecords'> },
): Promise<ConsumerHandle> {
  return subscribeDeliveryRecords(bus, DELIVERY_RECORDS_QUEUE, async (message) => {
    await deps.history.saveRecords(message.records);
  });
}
