import Redis from 'ioredis';
import { createBus, type Topology } from '@stacklink/bus';
import { createHttpApp, runMain, startServer } from '@stacklink/http';
import { createLogger, registerSecret, type Logger } from '@stacklink/logger';
import { createBitbucketClients } from './adapters/bitbucket-clients';
import {
  createBitbucketCommitStatuses,
  createRateLimitedBitbucket,
} from './adapters/bitbucket-commit-statuses';
import { createBitbucketPullRequestComments } from './adapters/bitbucket-pull-request-comments';
import { createIntegrationCredentials } from './adapters/integration-credentials';
import { openStore } from './adapters/open-store';
import type { Store } from './adapters/store';
import { createPrometheusReporterMetrics } from './adapters/prometheus-reporter-metrics';
import { createRedisRateLimiter } from './adapters/redis-rate-limiter';
import { createRedisRunStatusLedger } from './adapters/redis-run-status-ledger';
import { createStatusUpdatesConsumer } from './consumers/status-updates';
import { createReportCommitStatus } from './domain/report-commit-status';
import { createReportPullRequestComment } from './domain/report-pull-request-comment';
import { readReporterConfig, type ReporterConfig } from './reporter-config';
import { STATUS_UPDATES_QUEUE, stackTriggerTopology } from '@stacklink/contracts';

export interface ReporterWorker {
  port: number;
  url: string;
  /** Graceful: stops taking updates, lets the ones in flight finish (bounded), closes connections. */
  stop(): Promise<void>;
}

export interface ReporterOptions {
  logger?: Logger;
  /** Tests shorten the retry delays of the status-updates queue; production uses the contract's. */
  topology?: Topology;
}

/**
 * The `reporter` role (docs/architecture.md §1, §8): consumes `stack-trigger.status-updates` and posts commit
 * statuses, with /healthz, /readyz and /metrics on PORT. Wiring only.
 */
export async function startReporterWorker(
  config: ReporterConfig,
  options: ReporterOptions = {},
): Promise<ReporterWorker> {
  const logger =
    options.logger ?? createLogger({ service: 'stack-trigger-reporter', level: config.LOG_LEVEL });
  registerSecret(config.INTERNAL_TOKEN);
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 3 });
  const bus = createBus({
    url: config.RABBITMQ_URL,
    logger,
    namespace: config.NAMESPACE,
    topology: options.topology ?? stackTriggerTopology,
    prefetch: config.REPORTER_CONCURRENCY,
    connectionName: 'stack-trigger-reporter',
  });
  try {
    await bus.start();
  } catch (err) {
    redis.disconnect();
    throw err;
  }
  // The store holds the stacks' prComments setting and which comment belongs to which run.
  let store: Store;
  try {
    store = await openStore(config.STORE_URL);
  } catch (err) {
    await bus.close();
    redis.disconnect();
    throw err;
  }
  const metrics = createPrometheusReporterMetrics();
  const credentials = createIntegrationCredentials({
    integrationUrl: config.INTEGRATION_URL,
    internalToken: config.INTERNAL_TOKEN,
  });
  // The client's own retries are off: 5xx and timeouts go back to the bus's retry queues
  // (docs/architecture.md §8).
  const clients = createBitbucketClients(credentials, {
    timeoutMs: config.BITBUCKET_TIMEOUT_MS,
    retry: { maxAttempts: 1 },
  });
  const bitbucket = {
    clients,
    limiter: createRedisRateLimiter({
      redis,
      namespace: config.NAMESPACE,
      maxWaitMs: config.REPORTER_MAX_WAIT_MS,
    }),
    limits: {
      default: { perSecond: config.REPORTER_RATE_PER_SECOND, burst: config.REPORTER_RATE_BURST },
      overrides: config.REPORTER_RATE_LIMITS,
    },
    logger,
    onRateLimited: (host: string) => metrics.rateLimited(host),
  };
  // Statuses and comments share each Bitbucket host's rate limit.
  const call = createRateLimitedBitbucket(bitbucket);
  const statuses = createBitbucketCommitStatuses({ ...bitbucket, call });
  const reportCommitStatus = createReportCommitStatus({
    ledger: createRedisRunStatusLedger({
      redis,
      namespace: config.NAMESPACE,
      claimTtlMs: config.REPORTER_CLAIM_TTL_MS,
    }),
    statuses,
    metrics,
    logger,
    publicUiUrl: config.PUBLIC_UI_URL,
    pullRequestComment: createReportPullRequestComment({
      stacks: store.stacks,
      runComments: store.runComments,
      comments: createBitbucketPullRequestComments(call),
      logger,
      publicUiUrl: config.PUBLIC_UI_URL,
    }),
  });
  const consumer = await bus.consume(STATUS_UPDATES_QUEUE, createStatusUpdatesConsumer(reportCommitStatus), {
    prefetch: config.REPORTER_CONCURRENCY,
  });
  const app = createHttpApp(
    {
      service: 'stack-trigger-reporter',
      logger,
      readiness: [
        { name: 'rabbitmq', check: () => bus.isReady() },
        { name: 'redis', check: () => redis.status === 'ready' },
        { name: 'store', check: () => store.ping() },
      ],
    },
    () => undefined,
  );
  const server = await startServer(app, { port: config.PORT, host: config.HOST, logger });
  logger.info('reporter consuming', { queue: STATUS_UPDATES_QUEUE, port: server.port });
  let stopping: Promise<void> | undefined;
  return {
    port: server.port,
    url: server.url,
    stop() {
      stopping ??= (async () => {
        await consumer.cancel();
        await bus.close();
        await server.close();
        redis.disconnect();
        await store.close();
      })();
      return stopping;
    },
  };
}

if (require.main === module) {
  runMain('reporter worker', readReporterConfig, async (config) => {
    const logger = createLogger({ service: 'stack-trigger-reporter', level: config.LOG_LEVEL });
    const worker = await startReporterWorker(config, { logger });
    return { logger, stop: () => worker.stop() };
  });
}
