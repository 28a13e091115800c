import { announceChange } from './announce-change';
import { generateWebhookSecret } from './generate-webhook-secret';
import { webhookEndpoint } from './integration-view';
import { modifyIntegration } from './modify-integration';
import { openSecret } from './open-secret';
import type { IntegrationDeps } from './ports';

export interface RotatedWebhookSecret {
  webhook: { endpoint: string; secret: string };
  previousSecretValidUntil: string;
}

/**
 * A new webhook secret becomes current; the old one stays valid for the grace period so repositories
 * can be updated one by one without dropping deliveries (docs/architecture.md §4). Only one previous secret
 * is kept: rotating twice within the grace period retires the oldest at once.
 */
export function createRotateWebhookSecret(
  deps: IntegrationDeps,
): (id: string) => Promise<RotatedWebhookSecret> {
  return async (id) => {
    const secret = generateWebhookSecret();
    deps.registerSecret(secret);
    const { result: validUntil } = await modifyIntegration(deps, id, (current, now) => {
      const old = openSecret(deps, current, 'webhookSecret');
      const until = new Date(now.getTime() + deps.webhookSecretGraceSeconds * 1000).toISOString();
      return {
        record: {
          ...current,
          secrets: {
            accessToken: current.secrets.accessToken,
            webhookSecret: deps.cipher.encrypt(secret, { recordId: id, field: 'webhookSecret' }),
            // Re-sealed: the field name is part of the associated data.
            previousWebhookSecret: deps.cipher.encrypt(old, { recordId: id, field: 'previousWebhookSecret' }),
          },
          previousWebhookSecretValidUntil: until,
        },
        result: until,
      };
    });
    deps.logger.info('webhook secret rotated', { integrationId: id, previousSecretValidUntil: validUntil });
    await announceChange(deps, 'integration.secret_rotated', id);
    return {
      webhook: { endpoint: webhookEndpoint(deps.publicWebhookBaseUrl, id), secret },
      previousSecretValidUntil: validUntil,
    };
  };
}
