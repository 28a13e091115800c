import type Redis from 'ioredis';
import type { DedupClaim, DeliveryDedupPort } from '../domain/ports';

// Claims every key of a batch as pending, or says what it already is; one answer per key, in order.
// A key listed twice in one batch is claimed once and reported in flight the second time.
const CLAIM = `
local answers = {}
for i, key in ipairs(KEYS) do
  if redis.call('SET', key, 'pending', 'NX', 'EX', ARGV[1]) then
    answers[i] = 'claimed'
  else
    local v = redis.call('GET', key)
    if v == 'done' then answers[i] = 'duplicate'
    elseif v == 'pending' then answers[i] = 'in_flight'
    else
      redis.call('SET', key, 'pending', 'EX', ARGV[1])
      answers[i] = 'claimed'
    end
  end
end
return answers
`;

// Marks every key of a batch as published, remembered for the dedup window.
const MARK = `
for _, key in ipairs(KEYS) do redis.call('SET', key, 'done', 'EX', ARGV[1]) end
return #KEYS
`;

// Only a pending claim is released: a delivery already published stays remembered.
const RELEASE = `
if redis.call('GET', KEYS[1]) == 'pending' then return redis.call('DEL', KEYS[1]) end
return 0
`;

interface DedupCommands {
  stacklinkClaimDeliveries(numberOfKeys: number, ...keysThenTtl: string[]): Promise<string[]>;
  stacklinkMarkDeliveries(numberOfKeys: number, ...keysThenTtl: string[]): Promise<number>;
  stacklinkReleaseDelivery(key: string): Promise<number>;
}

/** The most keys one script call carries; a larger burst is split over several calls. */
const MAX_BATCH = 256;

/**
 * Collects the calls made while the event loop works through one round of I/O and sends them as one
 * command when that round ends. Under load a single Redis command then answers for every delivery
 * that arrived together, instead of one command (and its client-side cost) per delivery.
 */
function batched<R>(send: (keys: string[]) => Promise<R[]>): (key: string) => Promise<R> {
  let waiting: { key: string; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  const flush = () => {
    const calls = waiting;
    waiting = [];
    for (let i = 0; i < calls.length; i += MAX_BATCH) {
      const slice = calls.slice(i, i + MAX_BATCH);
      send(slice.map((c) => c.key)).then(
        (answers) => slice.forEach((c, j) => c.resolve(answers[j]!)),
        (err: unknown) => slice.forEach((c) => c.reject(err)),
      );
    }
  };
  return (key) =>
    new Promise<R>((resolve, reject) => {
      if (waiting.length === 0) setImmediate(flush);
      waiting.push({ key, resolve, reject });
    });
}

export function createRedisDeliveryDedup(
  redis: Redis,
  options: { keyPrefix: string; ttlSeconds: number; pendingTtlSeconds?: number },
): DeliveryDedupPort {
  const pendingTtl = String(options.pendingTtlSeconds ?? 60);
  const ttl = String(options.ttlSeconds);
  // defineCommand sends EVALSHA: the script text crosses the wire once, not on every call.
  if (!('stacklinkClaimDeliveries' in redis)) {
    redis.defineCommand('stacklinkClaimDeliveries', { lua: CLAIM });
    redis.defineCommand('stacklinkMarkDeliveries', { lua: MARK });
    redis.defineCommand('stacklinkReleaseDelivery', { numberOfKeys: 1, lua: RELEASE });
  }
  const commands = redis as unknown as DedupCommands;
  const key = (integrationId: string, deliveryId: string) =>
    `${options.keyPrefix}gateway:delivery:${integrationId}:${deliveryId}`;
  const claimKey = batched((keys) => commands.stacklinkClaimDeliveries(keys.length, ...keys, pendingTtl));
  const markKey = batched(async (keys) => {
    await commands.stacklinkMarkDeliveries(keys.length, ...keys, ttl);
    return keys.map(() => undefined);
  });
  return {
    async claim(integrationId, deliveryId): Promise<DedupClaim> {
      try {
        const result = await claimKey(key(integrationId, deliveryId));
        return result === 'claimed' || result === 'duplicate' || result === 'in_flight'
          ? result
          : 'unavailable';
      } catch {
        return 'unavailable';
      }
    },
    async markPublished(integrationId, deliveryId) {
      await markKey(key(integrationId, deliveryId));
    },
    async release(integrationId, deliveryId) {
      await commands.stacklinkReleaseDelivery(key(integrationId, deliveryId));
    },
  };
}
