import Redis, { type RedisOptions } from 'ioredis';
import { createBus, type Bus, type BusOptions } from '@stacklink/bus';
import { busConnection, redisConnection, storeConnection, type RoleConnection } from '@stacklink/http';
import type { Logger } from '@stacklink/logger';
import { openStore } from '../adapters/open-store';
import type { Store } from '../adapters/store';
import { stackTriggerTopology } from '@stacklink/contracts';

export interface OpenedConnections {
  store: Store;
  redis: Redis;
  bus: Bus;
  /** For startRole, in the order they start. */
  connections: RoleConnection[];
}

/**
 * What every stack-trigger role holds open: the store, Redis and the bus. The store is opened first, so a
 * store that fails leaves nothing behind; Redis connects in the background, the bus when startRole starts it.
 */
export async function openConnections(
  config: { STORE_URL: string; REDIS_URL: string; RABBITMQ_URL: string; NAMESPACE: string },
  logger: Logger,
  options: { redis?: RedisOptions; bus: Partial<BusOptions> & { connectionName: string } },
): Promise<OpenedConnections> {
  const store = await openStore(config.STORE_URL);
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 3, ...options.redis });
  redis.on('error', (err) => logger.debug('redis error', { err }));
  const bus = createBus({
    url: config.RABBITMQ_URL,
    logger,
    topology: stackTriggerTopology,
    namespace: config.NAMESPACE,
    ...options.bus,
  });
  return {
    store,
    redis,
    bus,
    connections: [storeConnection(store), redisConnection(redis), busConnection(bus)],
  };
}
