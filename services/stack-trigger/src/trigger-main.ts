import Redis from 'ioredis';
import { createBus } from '@stacklink/bus';
import { createHttpApp, runMain, startServer } from '@stacklink/http';
import { createLogger, registerSecret, type Logger } from '@stacklink/logger';
import { createBitbucketChangedFiles } from './adapters/bitbucket-changed-files';
import { createBitbucketClients } from './adapters/bitbucket-clients';
import { createBitbucketCommentReplies } from './adapters/bitbucket-comment-replies';
import { createBusRunEvents } from './adapters/bus-run-events';
import { createIntegrationCredentials } from './adapters/integration-credentials';
import { openStore } from './adapters/open-store';
import { createPrometheusTriggerMetrics } from './adapters/prometheus-trigger-metrics';
import { createRedisRunQueue } from './adapters/redis-run-queue';
import { consumeVcsEvents } from './consumers/vcs-events';
import { createHandleVcsEvent } from './domain/handle-vcs-event';
import { rebuildRunQueue } from './domain/rebuild-run-queue';
import { stackTriggerTopology } from '@stacklink/contracts';
import { readTriggerConfig, type TriggerConfig } from './trigger-config';

export interface TriggerWorker {
  /** Where /healthz, /readyz and /metrics answer. */
  url: string;
  logger: Logger;
  /** Stops consuming, lets in-flight events finish, closes the server, broker, Redis and store. */
  stop(): Promise<void>;
}

/**
 * The `trigger` role (docs/architecture.md §1, §2): consumes `stack-trigger.vcs-events`, applies the trigger
 * rules, creates and queues runs and announces them on the `runs` exchange. Wiring only.
 */
export async function startTriggerWorker(
  config: TriggerConfig,
  options: { logger?: Logger } = {},
): Promise<TriggerWorker> {
  const logger =
    options.logger ?? createLogger({ service: 'stack-trigger-trigger', level: config.LOG_LEVEL });
  registerSecret(config.INTERNAL_TOKEN);
  const store = await openStore(config.STORE_URL);
  // Auto-pipelining sends the commands of every event in flight in one write per tick instead of one
  // write each; ordering per connection is unchanged.
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 3, enableAutoPipelining: true });
  redis.on('error', (err) => logger.debug('redis error', { err }));
  const queue = createRedisRunQueue({
    redis,
    namespace: config.NAMESPACE,
    leaseSeconds: config.RUN_LEASE_SECONDS,
  });
  const bus = createBus({
    url: config.RABBITMQ_URL,
    logger,
    topology: stackTriggerTopology,
    namespace: config.NAMESPACE,
    prefetch: config.TRIGGER_CONCURRENCY,
    closeTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    connectionName: 'stack-trigger trigger',
  });
  const clients = createBitbucketClients(
    createIntegrationCredentials({
      integrationUrl: config.INTEGRATION_URL,
      internalToken: config.INTERNAL_TOKEN,
      ttlMs: config.CREDENTIALS_CACHE_SECONDS * 1000,
    }),
    {
      timeoutMs: config.BITBUCKET_TIMEOUT_MS,
      // A few quick tries in-process; a longer outage goes back to the bus's delayed retries.
      retry: { maxAttempts: 3, maxTotalMs: config.BITBUCKET_TIMEOUT_MS },
      maxPages: config.CHANGED_FILES_MAX_PAGES,
      maxItems: config.CHANGED_FILES_MAX_ITEMS,
    },
  );
  const handleVcsEvent = createHandleVcsEvent({
    stacks: store.stacks,
    runs: store.runs,
    queue,
    changedFiles: createBitbucketChangedFiles(clients),
    runEvents: createBusRunEvents(bus),
    replies: createBitbucketCommentReplies(clients),
    metrics: createPrometheusTriggerMetrics(),
    logger,
    maxRunsPerEvent: config.MAX_RUNS_PER_EVENT,
  });
  const ensureRunQueue = () => rebuildRunQueue({ runs: store.runs, queue, logger });

  const app = createHttpApp(
    {
      service: 'stack-trigger-trigger',
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
  await bus.start();
  await ensureRunQueue();
  const consumer = await consumeVcsEvents(bus, { handleVcsEvent, ensureRunQueue, logger });
  logger.info('trigger worker consuming', { metricsPort: server.port });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await consumer.cancel();
      await server.close();
      await bus.close();
      redis.disconnect();
      await store.close();
    })());
  return { url: server.url, logger, stop };
}

if (require.main === module)
  runMain('trigger worker', readTriggerConfig, (config) => startTriggerWorker(config));
