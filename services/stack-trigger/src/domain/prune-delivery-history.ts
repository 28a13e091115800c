import type { Logger } from '@stacklink/logger';
import type { Clock, DeliveryHistoryPort } from './ports';

/**
 * Retention of the delivery history (docs/architecture.md §13): drops what is older than `days` and, per
 * integration, all but the newest `maxPerIntegration` records, in batches, from the API role's sweep, so
 * no trigger worker ever waits on it.
 */
export function createPruneDeliveryHistory(deps: {
  history: DeliveryHistoryPort;
  days: number;
  maxPerIntegration: number;
  batchSize?: number;
  logger: Logger;
  clock?: Clock;
}) {
  return async (): Promise<number> => {
    const now = deps.clock ? deps.clock.now() : new Date();
    const deleted = await deps.history.prune({
      olderThan: new Date(now.getTime() - deps.days * 86_400_000),
      maxPerIntegration: deps.maxPerIntegration,
      batchSize: deps.batchSize ?? 500,
    });
    if (deleted > 0) deps.logger.info('delivery history pruned', { deleted });
    return deleted;
  };
}
