import { createIntegrationApiClient, type IntegrationCredentials } from '@stacklink/contracts';

export type { IntegrationCredentials } from '@stacklink/contracts';

export interface IntegrationCredentialsSource {
  /**
   * The integration's Bitbucket credentials. Throws INTEGRATION.NOT_FOUND (404, not retryable) for an
   * unknown integration and INTEGRATION.UNAVAILABLE (503, retryable) when the service does not answer.
   */
  get(integrationId: string): Promise<IntegrationCredentials>;
}

export interface IntegrationCredentialsOptions {
  /** Base URL of the integration service, e.g. http://127.0.0.1:8081 (INTEGRATION_URL). */
  integrationUrl: string;
  internalToken: string;
  /** How long an answer is reused (30 s by default): a rotated token is picked up within it. */
  ttlMs?: number;
  timeoutMs?: number;
  now?: () => number;
}

/**
 * Credentials from the integration service through its one internal client (@stacklink/contracts,
 * which also registers every token with the logger for redaction), cached briefly in memory and fetched
 * once at a time per integration (a burst of events for one repository makes one call, not one per
 * event). Failures are not cached.
 */
export function createIntegrationCredentials(
  options: IntegrationCredentialsOptions,
): IntegrationCredentialsSource {
  const ttlMs = options.ttlMs ?? 30_000;
  const now = options.now ?? Date.now;
  const client = createIntegrationApiClient({
    baseUrl: options.integrationUrl,
    internalToken: options.internalToken,
    timeoutMs: options.timeoutMs ?? 5000,
  });
  const cache = new Map<string, { value: IntegrationCredentials; expiresAt: number }>();
  const inFlight = new Map<string, Promise<IntegrationCredentials>>();

  async function fetchCredentials(integrationId: string): Promise<IntegrationCredentials> {
    const credentials = await client.credentials(integrationId);
    cache.set(integrationId, { value: credentials, expiresAt: now() + ttlMs });
    return credentials;
  }

  return {
    get(integrationId) {
      const cached = cache.get(integrationId);
      if (cached !== undefined && cached.expiresAt > now()) return Promise.resolve(cached.value);
      const pending = inFlight.get(integrationId);
      if (pending !== undefined) return pending;
      const request = fetchCredentials(integrationId).finally(() => inFlight.delete(integrationId));
      inFlight.set(integrationId, request);
      return request;
    },
  };
}
