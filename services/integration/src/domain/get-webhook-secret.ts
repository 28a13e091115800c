import { scopedWebhookSecret } from '@stacklink/bitbucket';
import { integrationNotFound } from './integration-errors';
import { previousSecretValidUntil, webhookEndpoint } from './integration-view';
import { openSecret } from './open-secret';
import type { IntegrationDeps } from './ports';

export interface WebhookSecretView {
  webhook: { endpoint: string; secret: string; scope?: string };
  /** While a rotation's grace period lasts, the previous secret (and what was derived from it) still verifies. */
  previousSecretValidUntil?: string;
}

/**
 * What an admin pastes into a webhook's settings by hand (docs/architecture.md §12): without a scope the
 * integration-wide endpoint and secret; with one (`P/r` or `P`, already checked) the scoped endpoint and
 * the secret derived for it. Derived, so rotating the integration secret rotates every scoped one too.
 */
export function createGetWebhookSecret(
  deps: IntegrationDeps,
): (id: string, scope: string | undefined) => Promise<WebhookSecretView> {
  return async (id, scope) => {
    const record = await deps.repository.findById(id);
    if (record === undefined) throw integrationNotFound(id);
    const secret = openSecret(deps, record, 'webhookSecret');
    const derived = (value: string) => {
      const scoped = scopedWebhookSecret(secret, value);
      deps.registerSecret(scoped);
      return scoped;
    };
    const endpoint = webhookEndpoint(deps.publicWebhookBaseUrl, id);
    const view: WebhookSecretView =
      scope === undefined
        ? { webhook: { endpoint, secret } }
        : {
            webhook: {
              endpoint: `${endpoint}?scope=${encodeURIComponent(scope).replace(/%2F/g, '/')}`,
              secret: derived(scope),
              scope,
            },
          };
    const validUntil = previousSecretValidUntil(record, deps.clock.now());
    if (validUntil !== undefined) view.previousSecretValidUntil = validUntil;
    return view;
  };
}
