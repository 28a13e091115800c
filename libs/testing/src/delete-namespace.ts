import amqp from 'amqplib';
import Redis from 'ioredis';

export interface DeleteNamespaceOptions {
  namespace: string;
  /** When set, the listed queues and exchanges are deleted from this broker. */
  amqpUrl?: string;
  /** When set, every key starting with `${namespace}:` or `${namespace}.` is deleted from this Redis. */
  redisUrl?: string;
  /** Logical queue names (without the namespace); RabbitMQ cannot list queues over AMQP. */
  queues?: string[];
  /** Logical exchange names (without the namespace). */
  exchanges?: string[];
  /**
   * The names of whole topologies, as `topologyNames(topology)` of @stacklink/bus gives them; added to
   * `queues` and `exchanges`, each name deleted once however many topologies declare it.
   */
  topologies?: TopologyNames[];
}

export interface TopologyNames {
  exchanges?: string[];
  queues?: string[];
}

export interface DeletedNamespace {
  queues: number;
  exchanges: number;
  redisKeys: number;
}

/**
 * Removes what one test run created. Only names under the namespace are touched (never FLUSHALL),
 * because other test runs and other engineers share the same RabbitMQ and Redis.
 */
export async function deleteNamespace(options: DeleteNamespaceOptions): Promise<DeletedNamespace> {
  const { namespace } = options;
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(namespace)) {
    // An empty namespace would mean "everything": refuse rather than wipe a shared server.
    throw new Error(`deleteNamespace needs a non-empty namespace, got "${namespace}"`);
  }
  const result: DeletedNamespace = { queues: 0, exchanges: 0, redisKeys: 0 };
  if (options.amqpUrl) {
    const all = [{ queues: options.queues, exchanges: options.exchanges }, ...(options.topologies ?? [])];
    const queues = new Set(all.flatMap((t) => t.queues ?? []));
    const exchanges = new Set(all.flatMap((t) => t.exchanges ?? []));
    Object.assign(result, await deleteAmqp(options.amqpUrl, namespace, [...queues], [...exchanges]));
  }
  if (options.redisUrl) result.redisKeys = await deleteRedisKeys(options.redisUrl, namespace);
  return result;
}

function physical(namespace: string, name: string): string {
  return name.startsWith(`${namespace}.`) ? name : `${namespace}.${name}`;
}

async function deleteAmqp(
  url: string,
  namespace: string,
  queues: string[],
  exchanges: string[],
): Promise<{ queues: number; exchanges: number }> {
  const connection = await amqp.connect(url);
  try {
    // Deleting a missing queue is fine in RabbitMQ, but a channel error (e.g. PRECONDITION) closes the
    // channel, so each delete gets a fresh one if needed.
    let channel = await connection.createChannel();
    channel.on('error', () => undefined);
    const deleted = { queues: 0, exchanges: 0 };
    for (const [kind, names] of [
      ['queue', queues],
      ['exchange', exchanges],
    ] as const) {
      for (const name of names) {
        try {
          if (kind === 'queue') await channel.deleteQueue(physical(namespace, name));
          else await channel.deleteExchange(physical(namespace, name));
          deleted[kind === 'queue' ? 'queues' : 'exchanges'] += 1;
        } catch {
          channel = await connection.createChannel();
          channel.on('error', () => undefined);
        }
      }
    }
    await channel.close().catch(() => undefined);
    return deleted;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

async function deleteRedisKeys(url: string, namespace: string): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let deleted = 0;
    for (const pattern of [`${namespace}:*`, `${namespace}.*`]) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
        cursor = next;
        if (keys.length > 0) deleted += await redis.del(...keys);
      } while (cursor !== '0');
    }
    return deleted;
  } finally {
    redis.disconnect();
  }
}
