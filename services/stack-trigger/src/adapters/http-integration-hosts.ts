import type { IntegrationHostsPort } from '../domain/show-run';

/**
 * The user-facing host of each integration, read from the integration service's public API
 * (`GET /api/v1/integrations/{id}`, ADMIN_TOKEN, which the API role holds) and kept for a minute: it is
 * only used to build links for people, and the answer never carries a secret.
 */
export function createHttpIntegrationHosts(options: {
  integrationUrl: string;
  adminToken: string;
  timeoutMs?: number;
  cacheMs?: number;
  now?: () => number;
}): IntegrationHostsPort {
  const base = options.integrationUrl.replace(/\/+$/, '');
  const cacheMs = options.cacheMs ?? 60_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { host: string | undefined; until: number }>();
  return {
    async userFacingHost(integrationId) {
      const cached = cache.get(integrationId);
      if (cached !== undefined && cached.until > now()) return cached.host;
      const res = await fetch(`${base}/api/v1/integrations/${encodeURIComponent(integrationId)}`, {
        headers: { authorization: `Bearer ${options.adminToken}` },
        signal: AbortSignal.timeout(options.timeoutMs ?? 2000),
      });
      if (res.status !== 200 && res.status !== 404) {
        await res.body?.cancel();
        throw new Error(`integration service answered ${res.status}`);
      }
      const body = res.status === 200 ? ((await res.json()) as { userFacingHost?: unknown }) : {};
      const host = typeof body.userFacingHost === 'string' ? body.userFacingHost : undefined;
      if (res.status === 404) await res.body?.cancel();
      cache.set(integrationId, { host, until: now() + cacheMs });
      if (cache.size > 1000) cache.delete(cache.keys().next().value!);
      return host;
    },
  };
}
