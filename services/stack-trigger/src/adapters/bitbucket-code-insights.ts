import type Redis from 'ioredis';
import type { Logger } from '@stacklink/logger';
import type { CodeInsightsPort, CommitStatusTarget } from '../domain/reporter-ports';
import type { BitbucketClients } from './bitbucket-clients';
import type { RateLimitedBitbucket } from './bitbucket-commit-statuses';
import { redisKeyPrefix } from './redis-run-queue';

export interface BitbucketCodeInsightsOptions {
  clients: BitbucketClients;
  /** The reporter's rate-limited caller: insights share each host's budget and breaker with statuses. */
  call: RateLimitedBitbucket;
  redis: Redis;
  namespace: string;
  /** How long a host that answered "no Code Insights" is skipped (CODE_INSIGHTS_RECHECK_SECONDS). */
  recheckSeconds: number;
  logger: Logger;
}

/**
 * Bitbucket's Code Insights API for the reporter (docs/architecture.md §8). The first report for a host
 * is its probe: a 404 that names no missing repository or commit means the server has no Code
 * Insights, which is kept in Redis (`<NAMESPACE>:stack-trigger:insights-absent:<origin>`) for
 * `recheckSeconds`, so every replica skips that host without asking it again until then.
 */
export function createBitbucketCodeInsights(options: BitbucketCodeInsightsOptions): CodeInsightsPort {
  const absentKey = (origin: string) => `${redisKeyPrefix(options.namespace)}insights-absent:${origin}`;
  const originOf = async (integrationId: string) =>
    new URL((await options.clients.forIntegration(integrationId)).baseUrl).origin;
  const at = (t: CommitStatusTarget) => [t.repository.projectKey, t.repository.slug, t.commit] as const;

  return {
    async putReport(target, report) {
      const origin = await originOf(target.integrationId);
      if ((await options.redis.exists(absentKey(origin))) === 1) return false;
      const { key, ...body } = report;
      const stored = await options.call(target.integrationId, (client) =>
        client.putInsightReport(...at(target), key, body),
      );
      if (stored === 'stored') return true;
      await options.redis.set(absentKey(origin), '1', 'EX', options.recheckSeconds);
      options.logger.info('Bitbucket host has no Code Insights; reporting commit statuses only', {
        host: origin,
        recheckSeconds: options.recheckSeconds,
      });
      return false;
    },
    async deleteAnnotations(target, reportKey) {
      await options.call(target.integrationId, (client) =>
        client.deleteInsightAnnotations(...at(target), reportKey),
      );
    },
    async postAnnotations(target, reportKey, annotations) {
      await options.call(target.integrationId, (client) =>
        client.postInsightAnnotations(...at(target), reportKey, annotations),
      );
    },
  };
}
