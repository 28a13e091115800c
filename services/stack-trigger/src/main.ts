import Redis from 'ioredis';
import { createBus } from '@stacklink/bus';
import { runMain, startServer } from '@stacklink/http';
import { createLogger, registerSecret, type Logger } from '@stacklink/logger';
import { createBusRunEvents } from './adapters/bus-run-events';
import { createHttpIntegrations } from './adapters/http-integrations';
import { openStore } from './adapters/open-store';
import { createPrometheusTriggerMetrics } from './adapters/prometheus-trigger-metrics';
import { createRedisRunQueue } from './adapters/redis-run-queue';
import { createApp } from './app';
import { readConfig, type Config } from './config';
import { createExpireRunLeases } from './domain/expire-run-leases';
import { rebuildRunQueue } from './domain/rebuild-run-queue';
import { stackTriggerTopology } from '@stacklink/contracts';

export interface StackTriggerApi {
  url: string;
  port: number;
  logger: Logger;
  stop(): Promise<void>;
}

/**
 * The stack-trigger API role. Wiring only: config → logger → connections → app → listen; `stop` is
 * the graceful shutdown. Exported so tests and the end-to-end suite start it in-process.
 */
export async function startStackTriggerApi(
  config: Config,
  options: { logger?: Logger } = {},
): Promise<StackTriggerApi> {
  const logger = options.logger ?? createLogger({ service: 'stack-trigger-api', level: config.LOG_LEVEL });
  registerSecret(config.ADMIN_TOKEN);
  registerSecret(config.INTERNAL_TOKEN);

  const store = await openStore(config.STORE_URL);
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 3 });
  const queue = createRedisRunQueue({
    redis,
    namespace: config.NAMESPACE,
    leaseSeconds: config.RUN_LEASE_SECONDS,
  });
  // State changes (POST /runs/{id}/state), manual triggers and expired leases reach the reporter and
  // the runners through the `runs` exchange.
  const bus = createBus({
    url: config.RABBITMQ_URL,
    logger,
    topology: stackTriggerTopology,
    namespace: config.NAMESPACE,
    connectionName: 'stack-trigger api',
  });
  await bus.start();
  const runEvents = createBusRunEvents(bus);
  await rebuildRunQueue({ runs: store.runs, queue, logger });

  const app = createApp({
    adminToken: config.ADMIN_TOKEN,
    internalToken: config.INTERNAL_TOKEN,
    logger,
    stacks: store.stacks,
    runs: store.runs,
    queue,
    integrations: createHttpIntegrations({
      integrationUrl: config.INTEGRATION_URL,
      internalToken: config.INTERNAL_TOKEN,
      logger,
    }),
    runEvents,
    metrics: createPrometheusTriggerMetrics(),
    deadLetters: bus,
    readiness: [
      { name: 'rabbitmq', check: () => bus.isReady() },
      { name: 'redis', check: () => redis.status === 'ready' },
      { name: 'store', check: () => store.ping() },
    ],
  });
  const server = await startServer(app, { port: config.PORT, host: config.HOST, logger });
  logger.info('stack-trigger API listening', { port: server.port });

  const expireLeases = createExpireRunLeases({
    stacks: store.stacks,
    runs: store.runs,
    queue,
    runEvents,
    logger,
  });
  const sweep = setInterval(() => {
    // Redis may have been flushed meanwhile: rebuild first, then look for expired leases.
    rebuildRunQueue({ runs: store.runs, queue, logger })
      .then(() => expireLeases())
      .catch((err: unknown) => logger.warn('lease sweep failed', { err }));
  }, config.LEASE_SWEEP_INTERVAL_MS);

  const stop = async () => {
    clearInterval(sweep);
    await server.close();
    await bus.close();
    redis.disconnect();
    await store.close();
  };
  return { url: server.url, port: server.port, logger, stop };
}

if (require.main === module) {
  runMain('stack-trigger API', readConfig, async (config) => {
    if (config.ROLE !== 'api') {
      // Each worker role has its own entry point (docs/architecture.md §2):
      // trigger-main.js, reporter-main.js.
      throw new Error(`ROLE=${config.ROLE} runs from its own entry point, not main.js`);
    }
    return startStackTriggerApi(config);
  });
}
