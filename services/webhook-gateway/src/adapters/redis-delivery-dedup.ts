import type Redis from 'ioredis';
import type { DedupClaim, DeliveryDedupPort } from '../domain/ports';

// One round trip: claim the delivery as pending, or say what it already is.
const CLAIM = `
local ok = redis.call('SET', KEYS[1], 'pending', 'NX', 'EX', ARGV[1])
if ok then return 'claimed' end
local v = redis.call('GET', KEYS[1])
if v == 'done' then return 'duplicate' end
if v == 'pending' then return 'in_flight' end
redis.call('SET', KEYS[1], 'pending', 'EX', ARGV[1])
return 'claimed'
`;

// Only a pending claim is released: a delivery already published stays remembered.
const RELEASE = `
if redis.call('GET', KEYS[1]) == 'pending' then return redis.call('DEL', KEYS[1]) end
return 0
`;

interface DedupCommands {
  stacklinkClaimDelivery(key: string, pendingTtl: string): Promise<string>;
  stacklinkReleaseDelivery(key: string): Promise<number>;
}

export function createRedisDeliveryDedup(
  redis: Redis,
  options: { keyPrefix: string; ttlSeconds: number; pendingTtlSeconds?: number },
): DeliveryDedupPort {
  const pendingTtl = String(options.pendingTtlSeconds ?? 60);
  // defineCommand sends EVALSHA: the script text crosses the wire once, not on every delivery.
  if (!('stacklinkClaimDelivery' in redis)) {
    redis.defineCommand('stacklinkClaimDelivery', { numberOfKeys: 1, lua: CLAIM });
    redis.defineCommand('stacklinkReleaseDelivery', { numberOfKeys: 1, lua: RELEASE });
  }
  const commands = redis as unknown as DedupCommands;
  const key = (integrationId: string, deliveryId: string) =>
    `${options.keyPrefix}gateway:delivery:${integrationId}:${deliveryId}`;
  return {
    async claim(integrationId, deliveryId): Promise<DedupClaim> {
      try {
        const result = await commands.stacklinkClaimDelivery(key(integrationId, deliveryId), pendingTtl);
        return result === 'claimed' || result === 'duplicate' || result === 'in_flight'
          ? result
          : 'unavailable';
      } catch {
        return 'unavailable';
      }
    },
    async markPublished(integrationId, deliveryId) {
      await redis.set(key(integrationId, deliveryId), 'done', 'EX', options.ttlSeconds);
    },
    async release(integrationId, deliveryId) {
      await commands.stacklinkReleaseDelivery(key(integrationId, deliveryId));
    },
  };
}
