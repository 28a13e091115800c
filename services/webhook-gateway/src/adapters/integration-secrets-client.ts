import { AppError } from '@stacklink/errors';
import { registerSecret } from '@stacklink/logger';
import type { SecretsLookup } from '../domain/ports';

interface SecretsResponse {
  secrets?: { value?: unknown; validUntil?: unknown }[];
}

/**
 * Reads an integration's webhook secrets from the integration service's internal API
 * (`GET /internal/v1/integrations/{id}/webhook-secrets`, docs/architecture.md §4).
 */
export function createIntegrationSecretsClient(options: {
  baseUrl: string;
  internalToken: string;
  timeoutMs?: number;
  now?: () => number;
}): (integrationId: string) => Promise<SecretsLookup> {
  const base = options.baseUrl.replace(/\/+$/, '');
  const now = options.now ?? Date.now;
  return async (integrationId) => {
    let res: Response;
    try {
      res = await fetch(
        `${base}/internal/v1/integrations/${encodeURIComponent(integrationId)}/webhook-secrets`,
        {
          headers: { authorization: `Bearer ${options.internalToken}`, accept: 'application/json' },
          signal: AbortSignal.timeout(options.timeoutMs ?? 2000),
        },
      );
    } catch (err) {
      throw new AppError('WEBHOOK.SECRETS_UNAVAILABLE', 'integration service unreachable', {
        status: 503,
        retryable: true,
        cause: err,
      });
    }
    if (res.status === 404) {
      await res.body?.cancel();
      return { kind: 'unknown' };
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new AppError('WEBHOOK.SECRETS_UNAVAILABLE', `integration service answered ${res.status}`, {
        status: 503,
        retryable: true,
      });
    }
    const body = (await res.json()) as SecretsResponse;
    const secrets: string[] = [];
    for (const s of body.secrets ?? []) {
      if (typeof s.value !== 'string' || s.value === '') continue;
      if (typeof s.validUntil === 'string' && Date.parse(s.validUntil) <= now()) continue;
      registerSecret(s.value);
      secrets.push(s.value);
    }
    return { kind: 'found', secrets };
  };
}
