import type { MessageHandler } from '@stacklink/bus';
import { handleIntegrationEvents } from '@stacklink/contracts';
import type { Logger } from '@stacklink/logger';
import type { CachedWebhookSecrets } from '../adapters/cached-webhook-secrets';

/**
 * `integration.*` announcements (docs/architecture.md §1), checked against their contract
 * (@stacklink/contracts): a rotated, updated or deleted integration drops its cached secrets so the next
 * delivery reads the new ones.
 */
export function createIntegrationEventsConsumer(
  secrets: CachedWebhookSecrets,
  logger: Logger,
): MessageHandler {
  return handleIntegrationEvents(async (event) => {
    secrets.invalidate(event.integrationId);
    logger.debug('dropped cached webhook secrets', { integrationId: event.integrationId, type: event.type });
  });
}
