import { randomUUID } from 'node:crypto';
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
  /** How long a host's probe answer is kept (CODE_INSIGHTS_RECHECK_SECONDS). */
  recheckSeconds: number;
  logger: Logger;
  /** How long a caller waits for another one probing the same host (default 15 s). */
  probeWaitMs?: number;
}

/**
 * Bitbucket's Code Insights API for the reporter (docs/architecture.md §8). A host is probed once: the
 * first report put on it, under a per-host Redis lock so concurrent replicas do not each probe. A 404
 * that names no missing repository or commit means the server has no Code Insights; the answer is kept
 * in Redis for `recheckSeconds` (`<NAMESPACE>:stack-trigger:insights:<origin>` = `absent`|`present`),
 * and every replica skips an absent host without asking it again until then.
 */
export function createBitbucketCodeInsights(options: BitbucketCodeInsightsOptions): CodeInsightsPort {
  const prefix = `${redisKeyPrefix(options.namespace)}insights:`;
  const probeWaitMs = options.probeWaitMs ?? 15_000;
  const originOf = async (integrationId: string) =>
    new URL((await options.clients.forIntegration(integrationId)).baseUrl).origin;
  const at = (t: CommitStatusTarget) => [t.repository.projectKey, t.repository.slug, t.commit] as const;

  /** The host's kept answer; when none is kept, the probe lock's token (this caller probes) or a wait. */
  async function knownOrProbe(origin: string): Promise<'absent' | 'present' | { token: string }> {
    const deadline = Date.now() + probeWaitMs;
    for (;;) {
      const known = await options.redis.get(`${prefix}${origin}`);
      if (known === 'absent' || known === 'present') return known;
      const token = randomUUID();
      const locked = await options.redis.set(`${prefix}probe:${origin}`, token, 'PX', probeWaitMs, 'NX');
      if (locked === 'OK' || Date.now() > deadline) return { token };
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  return {
    async putReport(target, report) {
      const origin = await originOf(target.integrationId);
      const known = await knownOrProbe(origin);
      if (known === 'absent') return false;
      const { key, ...body } = report;
      try {
        const stored = await options.call(target.integrationId, (client) =>
          client.putInsightReport(...at(target), key, body),
        );
        const answer = stored === 'stored' ? 'present' : 'absent';
        if (known !== answer) {
          await options.redis.set(`${prefix}${origin}`, answer, 'EX', options.recheckSeconds);
        }
        if (answer === 'absent') {
          options.logger.info('Bitbucket host has no Code Insights; reporting commit statuses only', {
            host: origin,
            recheckSeconds: options.recheckSeconds,
          });
        }
        return answer === 'present';
      } finally {
        if (typeof known === 'object') {
          const lock = `${prefix}probe:${origin}`;
          if ((await options.redis.get(lock)) === known.token) await options.redis.del(lock);
        }
      }
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
