import { BitbucketErrorCode, type BitbucketClient } from '@stacklink/bitbucket';
import { isAppError } from '@stacklink/errors';
import type { Logger } from '@stacklink/logger';
import type { CommitStatus } from '../domain/commit-status';
import type { CommitStatusesPort } from '../domain/reporter-ports';
import type { BitbucketClients } from './bitbucket-clients';
import type { HostRateLimiter, RateLimit } from './redis-rate-limiter';

export interface RateLimitSettings {
  /** Applies to every Bitbucket host without an override. */
  default: RateLimit;
  /** By integration id, or by Bitbucket origin (`https://git.example.com`): the first match wins. */
  overrides: Record<string, RateLimit>;
}

export interface BitbucketCommitStatusesOptions {
  /** Clients built with their own retries turned down: the bus owns retries (docs/architecture.md §8, §9). */
  clients: BitbucketClients;
  limiter: HostRateLimiter;
  limits: RateLimitSettings;
  logger: Logger;
  /** Requests tried in-process after a 429, each after the server's Retry-After (10 by default); then the bus retries. */
  rateLimitedTries?: number;
  /** How long a server's build capabilities are believed (10 min by default). */
  capabilitiesTtlMs?: number;
  onRateLimited?: (host: string) => void;
}

/** A Bitbucket request made through the host's shared rate limit, honouring 429s (see below). */
export type RateLimitedBitbucket = <T>(
  integrationId: string,
  request: (client: BitbucketClient) => Promise<T>,
) => Promise<T>;

/**
 * Every request takes a slot of its host's shared token bucket first; a 429 pauses the whole bucket
 * (every replica) for `Retry-After` and the request is tried again, up to `rateLimitedTries` times.
 * Shared by commit statuses and pull-request comments: one budget per Bitbucket host.
 */
export function createRateLimitedBitbucket(
  options: Omit<BitbucketCommitStatusesOptions, 'capabilitiesTtlMs'>,
): RateLimitedBitbucket {
  const tries = options.rateLimitedTries ?? 10;

  const limitFor = (integrationId: string, host: string): RateLimit =>
    options.limits.overrides[integrationId] ?? options.limits.overrides[host] ?? options.limits.default;

  return async function call<T>(
    integrationId: string,
    request: (client: BitbucketClient) => Promise<T>,
  ): Promise<T> {
    const client = await options.clients.forIntegration(integrationId);
    const host = new URL(client.baseUrl).origin;
    const limit = limitFor(integrationId, host);
    for (let n = 1; ; n++) {
      await options.limiter.acquire(host, limit);
      try {
        return await request(client);
      } catch (err) {
        if (!isAppError(err) || err.code !== BitbucketErrorCode.RATE_LIMITED) throw err;
        const retryAfterMs = (err.details as { retryAfterMs?: number } | undefined)?.retryAfterMs ?? 1000;
        options.onRateLimited?.(host);
        await options.limiter.pause(host, limit, retryAfterMs);
        options.logger.warn('Bitbucket rate-limited the reporter; pausing the host', {
          integrationId,
          host,
          retryAfterMs,
          try: n,
        });
        if (n >= tries) throw err;
      }
    }
  };
}

/**
 * Bitbucket's build status API through the per-host rate limit. Every request takes a slot of the
 * host's shared token bucket first. A 429 (some other client used the token's budget, or the limit is
 * set above Bitbucket's) pauses the whole bucket for `Retry-After` — every replica honours it — and the
 * request is tried again once the pause is over; if the pause is longer than the limiter lets a caller
 * wait, the error goes to the bus, whose retry queues bring the update back later.
 */
export function createBitbucketCommitStatuses(
  options: BitbucketCommitStatusesOptions & { call?: RateLimitedBitbucket },
): CommitStatusesPort {
  const capabilitiesTtlMs = options.capabilitiesTtlMs ?? 600_000;
  const capabilities = new Map<string, { cancelled: boolean; until: number }>();
  const call = options.call ?? createRateLimitedBitbucket(options);

  return {
    async supportsCancelled(integrationId) {
      const known = capabilities.get(integrationId);
      if (known !== undefined && known.until > Date.now()) return known.cancelled;
      const found = await call(integrationId, (client) => client.getBuildCapabilities());
      capabilities.set(integrationId, {
        cancelled: found.cancelledState,
        until: Date.now() + capabilitiesTtlMs,
      });
      return found.cancelledState;
    },
    async post(target, status) {
      const posted = await call(target.integrationId, (client) =>
        client.postBuildStatus(target.repository.projectKey, target.repository.slug, target.commit, status),
      );
      // The client only turns CANCELLED into FAILED (legacy API); it never invents a state.
      return { api: posted.api, state: posted.state as CommitStatus['state'] };
    },
  };
}
