import { integrationNotFound } from './integration-errors';
import { previousSecretValidUntil } from './integration-view';
import { openSecret } from './open-secret';
import type { IntegrationDeps } from './ports';

export interface WebhookSecrets {
  /** Current first; then the previous one while its grace period lasts. */
  secrets: { value: string; validUntil?: string }[];
}

export function createGetWebhookSecrets(deps: IntegrationDeps): (id: string) => Promise<WebhookSecrets> {
  return async (id) => {
    const record = await deps.repository.findById(id);
    if (record === undefined) throw integrationNotFound(id);
    const secrets: WebhookSecrets['secrets'] = [{ value: openSecret(deps, record, 'webhookSecret') }];
    const validUntil = previousSecretValidUntil(record, deps.clock.now());
    if (validUntil !== undefined) {
      secrets.push({ value: openSecret(deps, record, 'previousWebhookSecret'), validUntil });
    }
    return { secrets };
  };
}
