import type Redis from 'ioredis';
import type { HostGate } from '@stacklink/bitbucket';
import type { Topology } from '@stacklink/bus';
import { BITBUCKET_WAIT, stackTriggerTopologyWith } from '@stacklink/contracts';
import type { Logger } from '@stacklink/logger';
import { createPrometheusHostHealthMetrics } from '../adapters/prometheus-host-health-metrics';
import { createRedisHostHealthStore } from '../adapters/redis-host-health-store';
import { createRedisRateLimiter } from '../adapters/redis-rate-limiter';
import type { BitbucketHostConfig, BitbucketRateConfig } from '../config';
import { createHostHealth } from '../domain/host-health';

/** The shared Bitbucket host breaker of the trigger and reporter roles (docs/architecture.md §9). */
export function bitbucketHostGate(
  config: BitbucketHostConfig & { NAMESPACE: string; BITBUCKET_TIMEOUT_MS: number },
  redis: Redis,
  logger: Logger,
): HostGate {
  const metrics = createPrometheusHostHealthMetrics();
  const gate = createHostHealth({
    store: createRedisHostHealthStore({ redis, namespace: config.NAMESPACE }),
    metrics,
    logger,
    settings: {
      failureThreshold: config.BITBUCKET_FAILURE_THRESHOLD,
      minPauseMs: config.BITBUCKET_PROBE_MIN_MS,
      maxPauseMs: Math.max(config.BITBUCKET_PROBE_MIN_MS, config.BITBUCKET_PROBE_MAX_MS),
      // A probe may take a whole request timeout before another caller may try.
      probeLeaseMs: config.BITBUCKET_TIMEOUT_MS + 1000,
    },
  });
  metrics.refreshOnScrape(() => gate.refresh());
  return gate;
}

/** The topology with the Bitbucket-facing queues' schedule in RETRY_TIME_UNIT_MS and their wait horizon. */
export function bitbucketFacingTopology(config: BitbucketHostConfig): Topology {
  return stackTriggerTopologyWith({
    retryTimeUnitMs: config.RETRY_TIME_UNIT_MS,
    bitbucketWait: {
      delayMs: BITBUCKET_WAIT.delayMs,
      horizonMs: config.BITBUCKET_OUTAGE_HORIZON_SECONDS * 1000,
    },
  });
}

/** The per-host Bitbucket rate limit the reporter and the reconciler share (a token bucket in Redis). */
export function bitbucketRateLimit(config: BitbucketRateConfig, redis: Redis) {
  return {
    limiter: createRedisRateLimiter({
      redis,
      namespace: config.NAMESPACE,
      maxWaitMs: config.REPORTER_MAX_WAIT_MS,
    }),
    limits: {
      default: { perSecond: config.REPORTER_RATE_PER_SECOND, burst: config.REPORTER_RATE_BURST },
      overrides: config.REPORTER_RATE_LIMITS,
    },
  };
}
