import { AppError } from '@stacklink/errors';
import { registerSecret } from '@stacklink/logger';

/** What the integration service's internal API answers (`GET /internal/v1/integrations/{id}/credentials`). */
export interface IntegrationCredentials {
  apiHost: string;
  username: string;
  accessToken: string;
  tls: { caCertificate?: string };
}

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
 * Credentials from the integration service, cached briefly in memory and fetched once at a time per
 * integration (a burst of events for one repository makes one call, not one per event). Failures are
 * not cached. Every token is registered with the logger so it is redacted wherever it might appear.
 */
export function createIntegrationCredentials(
  options: IntegrationCredentialsOptions,
): IntegrationCredentialsSource {
  const ttlMs = options.ttlMs ?? 30_000;
  const timeoutMs = options.timeoutMs ?? 5000;
  const now = options.now ?? Date.now;
  const base = options.integrationUrl.replace(/\/+$/, '');
  const cache = new Map<string, { value: IntegrationCredentials; expiresAt: number }>();
  const inFlight = new Map<string, Promise<IntegrationCredentials>>();

  async function fetchCredentials(integrationId: string): Promise<IntegrationCredentials> {
    const url = `${base}/internal/v1/integrations/${encodeURIComponent(integrationId)}/credentials`;
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { authorization: `Bearer ${options.internalToken}`, accept: 'application/json' },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new AppError('INTEGRATION.UNAVAILABLE', 'the integration service did not answer', {
        status: 503,
        retryable: true,
        cause: err,
      });
    }
    if (response.status === 404) {
      throw new AppError('INTEGRATION.NOT_FOUND', `integration ${integrationId} does not exist`, {
        status: 404,
        retryable: false,
      });
    }
    if (!response.ok) {
      throw new AppError('INTEGRATION.UNAVAILABLE', `the integration service answered ${response.status}`, {
        status: 503,
        // 401/403 mean INTERNAL_TOKEN differs between the services: a configuration error, but one an
        // operator fixes by restarting with the right token, after which the retried event goes through.
        retryable: true,
      });
    }
    const body = (await response.json()) as Partial<IntegrationCredentials>;
    if (typeof body.apiHost !== 'string' || typeof body.accessToken !== 'string') {
      throw new AppError(
        'INTEGRATION.INVALID_CREDENTIALS',
        'the integration service answered without credentials',
        {
          status: 502,
          retryable: true,
        },
      );
    }
    registerSecret(body.accessToken);
    const credentials: IntegrationCredentials = {
      apiHost: body.apiHost,
      username: body.username ?? '',
      accessToken: body.accessToken,
      tls: body.tls?.caCertificate === undefined ? {} : { caCertificate: body.tls.caCertificate },
    };
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
