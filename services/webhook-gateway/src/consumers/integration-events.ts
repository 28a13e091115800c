import type { MessageHandler } from '@stacklink/bus';
import type { Logger } from '@stacklink/logger';
import type { CachedWebhookSecrets } from '../adapters/cached-webhook-secrets';

/**
 * `integration.*` announcements (docs/architecture.md §1): a rotated, updated or deleted integration drops
 * its cached secrets so the next delivery reads the new ones.
 */
export function createIntegrationEventsConsumer(
  secrets: CachedWebhookSecrets,
  logger: Logger,
): MessageHandler {
  return async (msg) => {
    const body = msg.body as { type?: unknown; integrationId?: unknown } | null;
    if (body && typeof body.integrationId === 'string') {
      secrets.invalidate(body.integrationId);
      logger.debug('dropped cached webhook secrets', { integrationId: body.integrationId, type: body.type });
    }
  };
}
