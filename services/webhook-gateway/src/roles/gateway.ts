import { hostname } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import Redis from 'ioredis';
import { createBus } from '@stacklink/bus';
import {
  gatewayIntegrationEventsQueue as INTEGRATION_EVENTS_QUEUE,
  gatewayTopology,
} from '@stacklink/contracts';
import { busConnection, processRegistry, redisConnection, runMain, startRole } from '@stacklink/http';
import { createLogger, registerSecret, type Logger } from '@stacklink/logger';
import { createBusDeliveryRecorder } from '../adapters/bus-delivery-recorder';
import { createBusEventPublisher } from '../adapters/bus-event-publisher';
import { createCachedWebhookSecrets } from '../adapters/cached-webhook-secrets';
import { createIntegrationSecretsClient } from '../adapters/integration-secrets-client';
import { createRedisDeliveryDedup } from '../adapters/redis-delivery-dedup';
import { createApp } from '../app';
import { loadGatewayConfig, type GatewayConfig } from '../config';
import { createIntegrationEventsConsumer } from '../consumers/integration-events';

/** The gateway role (docs/architecture.md §1): wiring only; startRole does the rest. */
export async function startGateway(config: GatewayConfig, options: { logger?: Logger } = {}) {
  // Redacted by value from every log line, as the other services do with their tokens.
  registerSecret(config.GATEWAY_TOKEN);
  const logger = options.logger ?? createLogger({ service: 'webhook-gateway', level: config.LOG_LEVEL });
  const instance = `${hostname()}-${process.pid}`;
  const bus = createBus({
    url: config.RABBITMQ_URL,
    logger,
    topology: gatewayTopology(instance),
    namespace: config.NAMESPACE,
    publishTimeoutMs: config.PUBLISH_TIMEOUT_MS,
    connectionName: `webhook-gateway ${instance}`,
  });
  // Fail fast: a webhook must not wait on a reconnecting Redis (Bitbucket times out at 10 s).
  const redis = new Redis(config.REDIS_URL, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 1000,
    lazyConnect: true,
    // No auto-pipelining: the dedup adapter already sends one command per round of deliveries.
  });
  redis.on('error', (err) => logger.debug('redis error', { err }));
  const secrets = createCachedWebhookSecrets(
    createIntegrationSecretsClient({ baseUrl: config.INTEGRATION_URL, internalToken: config.GATEWAY_TOKEN }),
    {
      ttlMs: config.SECRET_CACHE_TTL_SECONDS * 1000,
      unknownTtlMs: config.UNKNOWN_INTEGRATION_TTL_SECONDS * 1000,
      staleMs: config.SECRET_STALE_SECONDS * 1000,
    },
  );
  const recorder = createBusDeliveryRecorder(
    bus,
    { registry: processRegistry(), logger },
    { flushIntervalMs: config.DELIVERY_RECORDS_FLUSH_MS },
  );
  const running = await startRole({
    service: 'webhook-gateway',
    listen: { port: config.PORT, host: config.HOST, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS },
    logger,
    connections: [
      {
        ...redisConnection(redis),
        start: () =>
          redis
            .connect()
            .catch((err: unknown) =>
              logger.warn('redis not reachable at start; retrying in background', { err }),
            ),
        // Without Redis the gateway still accepts (no dedup, docs/decisions/005): degraded, not unready,
        // or a Redis outage would take every gateway out of the load balancer and lose deliveries.
        critical: false,
      },
      busConnection(bus),
    ],
    // The consumer is cancelled before the server closes; every webhook request already in flight
    // still finishes its confirmed publish before the broker connection closes, so every 202 given has
    // its message on the queue.
    consumers: [
      () => bus.consume(INTEGRATION_EVENTS_QUEUE(instance), createIntegrationEventsConsumer(secrets, logger)),
      // Cancelled with the consumers, before the broker connection closes: the last batch still leaves.
      async () => ({ cancel: () => recorder.stop() }),
    ],
    http: (readiness) =>
      createApp({
        logger,
        secrets,
        dedup: createRedisDeliveryDedup(redis, {
          keyPrefix: keyPrefix(config.NAMESPACE),
          ttlSeconds: config.DEDUP_TTL_SECONDS,
        }),
        publisher: createBusEventPublisher(bus),
        bodyLimitBytes: config.WEBHOOK_BODY_LIMIT_BYTES,
        maxBytesInFlight: config.GATEWAY_MAX_BYTES_IN_FLIGHT,
        unknownLookupsPerMinute: config.UNKNOWN_INTEGRATION_LOOKUPS_PER_MINUTE,
        recorder,
        readiness,
      }).listener,
  });
  return { ...running, bus, redis, secrets };
}

export function keyPrefix(namespace: string): string {
  return namespace === '' ? 'stacklink:' : `${namespace}:stacklink:`;
}

/**
 * V8 settings for the gateway process (docs/decisions/007), both read by V8 at every collection, so
 * setting them at startup takes effect:
 * - the old generation may grow 50 % past what survived the last full collection, instead of V8's
 *   adaptive factor (up to 300 % under this allocation rate): the live heap is ~20 MiB, and the default
 *   let the process reach 160–190 MiB; full collections then run every few seconds under full load;
 * - young-generation collections run on the main thread only: the gateway scales out in small
 *   replicas, and helper threads competing for the same core or two cost ~10 % more CPU per delivery
 *   than they save (measured with the bench's load on this 2-core machine).
 */
export const V8_FLAGS = ['--heap-growing-percent=50', '--no-parallel-scavenge'];

if (require.main === module) {
  // Process-wide, so only when this file is the process (never in tests that import it).
  for (const flag of V8_FLAGS) setFlagsFromString(flag);
  runMain(
    'webhook-gateway',
    () => loadGatewayConfig(),
    (config) => startGateway(config),
  );
}
