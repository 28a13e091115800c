import type { IntegrationDeps, IntegrationEventType } from './ports';

/**
 * Publishes an integration.* event AFTER the store committed the change. A failed publish does not fail
 * the API call: the store is the truth, and the change cannot be taken back because a broker was down.
 * It is logged and counted (`stacklink_integration_event_publish_failures_total`) instead; consumers
 * (the gateway's webhook-secret cache) also expire entries after a short TTL, so they converge even
 * when an event is lost.
 */
export async function announceChange(
  deps: Pick<IntegrationDeps, 'events' | 'clock' | 'logger' | 'metrics'>,
  type: IntegrationEventType,
  integrationId: string,
): Promise<void> {
  try {
    await deps.events.publish({ type, integrationId, occurredAt: deps.clock.now().toISOString() });
  } catch (err) {
    deps.metrics.eventPublishFailed(type);
    deps.logger.error('integration event was not published; consumers converge through their cache TTL', {
      integrationId,
      eventType: type,
      err,
    });
  }
}
