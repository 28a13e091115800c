import { runMain, startRole, type RunningRole } from '@stacklink/http';
import { createLogger, registerSecret, type Logger } from '@stacklink/logger';
import { randomUUID } from 'node:crypto';
import { createBusRedelivery } from '../adapters/bus-redelivery';
import { createBusRunEvents } from '../adapters/bus-run-events';
import { createBusStackEvents } from '../adapters/bus-stack-events';
import { createHttpIntegrations } from '../adapters/http-integrations';
import { createHttpIntegrationHosts } from '../adapters/http-integration-hosts';
import { createRedisRunActivity } from '../adapters/redis-run-activity';
import { createEventStreams } from '../http/event-stream';
import { createPrometheusTriggerMetrics } from '../adapters/prometheus-trigger-metrics';
import { createRedisRunQueue } from '../adapters/redis-run-queue';
import { createApp } from '../app';
import { loadApiConfig, type ApiConfig } from '../config';
import { openConnections } from './open-connections';
import { consumeDeliveryRecords } from '../consumers/delivery-records';
import { createExpireRunLeases } from '../domain/expire-run-leases';
import { createPruneDeliveryHistory } from '../domain/prune-delivery-history';
import { rebuildRunQueue } from '../domain/rebuild-run-queue';

/**
 * The stack-trigger API role: wiring only; startRole does the rest. Exported so tests and the end-to-end
 * suite start it in-process.
 */
export async function startStackTriggerApi(
  config: ApiConfig,
  options: { logger?: Logger } = {},
): Promise<RunningRole> {
  const logger = options.logger ?? createLogger({ service: 'stack-trigger-api', level: config.LOG_LEVEL });
  registerSecret(config.ADMIN_TOKEN);
  registerSecret(config.INTERNAL_TOKEN);
  for (const token of config.RUNNER_TOKENS ?? []) registerSecret(token);

  // State changes (POST /runs/{id}/state), manual triggers and expired leases reach the reporter and
  // the runners through the `runs` exchange.
  const { store, redis, bus, connections } = await openConnections(config, logger, {
    bus: { connectionName: 'stack-trigger api' },
  });
  const queue = createRedisRunQueue({
    redis,
    namespace: config.NAMESPACE,
    leaseSeconds: config.RUN_LEASE_SECONDS,
  });
  const runEvents = createBusRunEvents(bus);
  // Run logs: chunks posted to any replica reach the streams of every replica (Redis pub/sub), and each
  // stream polls the store as well.
  const activity = createRedisRunActivity({ redis, namespace: config.NAMESPACE, logger });
  const streams = createEventStreams();
  const expireLeases = createExpireRunLeases({
    stacks: store.stacks,
    runs: store.runs,
    queue,
    runEvents,
    logger,
  });
  const pruneDeliveryHistory = createPruneDeliveryHistory({
    history: store.deliveries,
    days: config.DELIVERY_HISTORY_DAYS,
    maxPerIntegration: config.DELIVERY_HISTORY_MAX_PER_INTEGRATION,
    logger,
  });
  return startRole({
    service: 'stack-trigger-api',
    listen: { port: config.PORT, host: config.HOST },
    logger,
    connections: [
      ...connections,
      {
        name: 'redis-subscriber',
        start: () => activity.start(),
        close: () => activity.close(),
        ready: () => activity.isReady(),
        // Streams fall back to polling the store without it.
        critical: false,
      },
    ],
    prepare: () => rebuildRunQueue({ runs: store.runs, queue, logger }),
    consumers: [
      // Open log streams end first at a stop, so the server does not wait on them.
      async () => ({ cancel: () => streams.closeAll() }),
      // The lease sweep: Redis may have been flushed meanwhile, so rebuild first, then look for
      // expired leases.
      async () => {
        const sweep = setInterval(() => {
          rebuildRunQueue({ runs: store.runs, queue, logger })
            .then(() => expireLeases())
            .catch((err: unknown) => logger.warn('lease sweep failed', { err }));
        }, config.LEASE_SWEEP_INTERVAL_MS);
        return { cancel: () => clearInterval(sweep) };
      },
      // The gateway's delivery records (docs/architecture.md §13), and their retention: batched deletes
      // here, never in the trigger workers' way.
      () => consumeDeliveryRecords(bus, { history: store.deliveries }),
      async () => {
        let pruning = false;
        const prune = setInterval(() => {
          if (pruning) return;
          pruning = true;
          pruneDeliveryHistory()
            .catch((err: unknown) => logger.warn('delivery history prune failed', { err }))
            .finally(() => {
              pruning = false;
            });
        }, config.DELIVERY_HISTORY_PRUNE_INTERVAL_MS);
        return { cancel: () => clearInterval(prune) };
      },
    ],
    http: (readiness) =>
      createApp({
        adminToken: config.ADMIN_TOKEN,
        runnerTokens: config.RUNNER_TOKENS ?? [],
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
        stackEvents: createBusStackEvents(bus, logger),
        webhookHealth: store.webhookHealth,
        metrics: createPrometheusTriggerMetrics(),
        deadLetters: bus,
        deliveries: {
          history: store.deliveries,
          redelivery: createBusRedelivery(bus),
          newEventId: randomUUID,
        },
        runLogs: {
          logs: store.logs,
          activity,
          streams,
          maxBytes: config.RUN_LOG_MAX_BYTES,
          graceSeconds: config.RUN_LOG_GRACE_SECONDS,
          pollMs: config.RUN_LOG_STREAM_POLL_MS,
          heartbeatMs: config.RUN_LOG_STREAM_HEARTBEAT_MS,
        },
        integrationHosts: createHttpIntegrationHosts({
          integrationUrl: config.INTEGRATION_URL,
          adminToken: config.ADMIN_TOKEN,
        }),
        readiness,
      }),
  });
}

if (require.main === module) {
  runMain('stack-trigger API', loadApiConfig, async (config) => {
    if (config.ROLE !== 'api') {
      // Each worker role has its own entry point (docs/architecture.md §2):
      // roles/trigger.js, roles/reporter.js.
      throw new Error(`ROLE=${config.ROLE} runs from its own entry point, not roles/api.js`);
    }
    return startStackTriggerApi(config);
  });
}
