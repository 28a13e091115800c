import { createIntegrationApiClient } from '@stacklink/contracts';
import type { SecretsLookup } from '../domain/ports';

/**
 * An integration's webhook secrets, through the integration service's one internal client
 * (@stacklink/contracts): `unknown` on 404, the secrets still valid otherwise. Fails with
 * WEBHOOK.SECRETS_UNAVAILABLE (503, retryable) without a usable answer; 2 s timeout by default, well
 * within Bitbucket's 10 s.
 */
export function createIntegrationSecretsClient(options: {
  baseUrl: string;
  internalToken: string;
  timeoutMs?: number;
  now?: () => number;
}): (integrationId: string) => Promise<SecretsLookup> {
  const now = options.now ?? Date.now;
  const client = createIntegrationApiClient({
    baseUrl: options.baseUrl,
    internalToken: options.internalToken,
    timeoutMs: options.timeoutMs ?? 2000,
  });
  return async (integrationId) => {
    const answer = await client.webhookSecrets(integrationId);
    if (answer === undefined) return { kind: 'unknown' };
    const secrets = answer.secrets
      .filter((s) => s.validUntil === undefined || Date.parse(s.validUntil) > now())
      .map((s) => s.value);
    return { kind: 'found', secrets };
  };
}
