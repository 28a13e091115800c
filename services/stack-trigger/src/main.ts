import Redis from 'ioredis';
import { describeConfigError } from '@stacklink/config';
import { installProcessHandlers, startServer } from '@stacklink/http';
import { createLogger, registerSecret } from '@stacklink/logger';
import { createHttpIntegrations } from './adapters/http-integrations';
import { createLoggingRunEvents } from './adapters/logging-run-events';
import { openStore } from './adapters/open-store';
import { createPrometheusTriggerMetrics } from './adapters/prometheus-trigger-metrics';
import { createRedisRunQueue } from './adapters/redis-run-queue';
import { createApp } from './app';
import { readConfig, type Config } from './config';
import { createExpireRunLeases } from './domain/expire-run-leases';
import { rebuildRunQueue } from './domain/rebuild-run-queue';

/** Wiring only: config → logger → connections → app → listen → shutdown. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = readConfig();
  } catch (err) {
    process.stderr.write(`${describeConfigError(err)}\n`);
    process.exit(1);
  }
  const logger = createLogger({ service: `stack-trigger-${config.ROLE}`, level: config.LOG_LEVEL });
  registerSecret(config.ADMIN_TOKEN);
  registerSecret(config.INTERNAL_TOKEN);
  if (config.ROLE !== 'api') {
    // The trigger and reporter workers consume RabbitMQ through libs/bus; they are wired separately.
    logger.error('role not wired in this process yet', { role: config.ROLE });
    process.exit(1);
  }

  const store = await openStore(config.STORE_URL);
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 3 });
  const queue = createRedisRunQueue({
    redis,
    namespace: config.NAMESPACE,
    leaseSeconds: config.RUN_LEASE_SECONDS,
  });
  const runEvents = createLoggingRunEvents(logger);
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
    readiness: [
      { name: 'redis', check: () => redis.status === 'ready' },
      { name: 'store', check: () => store.ping() },
    ],
  });
  const server = await startServer(app, { port: config.PORT, logger });
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

  installProcessHandlers(logger, async () => {
    clearInterval(sweep);
    await server.close();
    redis.disconnect();
    await store.close();
  });
}

void main();
