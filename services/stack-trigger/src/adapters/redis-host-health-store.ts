import type Redis from 'ioredis';
import type { HostHealthRecord, HostHealthStorePort } from '../domain/ports';
import { redisKeyPrefix } from './redis-run-queue';

/** Writes ARGV[2] when the stored record's version is ARGV[1] (0: no record). */
const COMPARE_AND_SET = `
local current = redis.call('GET', KEYS[1])
local version = 0
if current then version = tonumber(cjson.decode(current).version) or 0 end
if version ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1`;

type Scripted = Redis & { hostHealthCompareAndSet(...args: (string | number)[]): Promise<number> };

/**
 * Each Bitbucket host's breaker record as JSON under `<NAMESPACE>:stack-trigger:bitbucket-host:<host>`,
 * shared by every trigger worker and reporter replica. Records expire after a week untouched, so a
 * host that is no longer used leaves nothing behind.
 */
export function createRedisHostHealthStore(options: {
  redis: Redis;
  namespace: string;
  ttlSeconds?: number;
}): HostHealthStorePort {
  const redis = options.redis as Scripted;
  if (typeof (redis as unknown as Record<string, unknown>).hostHealthCompareAndSet !== 'function') {
    redis.defineCommand('hostHealthCompareAndSet', { numberOfKeys: 1, lua: COMPARE_AND_SET });
  }
  const key = (host: string) => `${redisKeyPrefix(options.namespace)}bitbucket-host:${host}`;
  const ttlSeconds = options.ttlSeconds ?? 7 * 86_400;
  return {
    async read(host) {
      const raw = await redis.get(key(host));
      return raw === null ? undefined : (JSON.parse(raw) as HostHealthRecord);
    },
    async compareAndSet(host, expectedVersion, next) {
      const written = await redis.hostHealthCompareAndSet(
        key(host),
        expectedVersion,
        JSON.stringify(next),
        ttlSeconds,
      );
      return written === 1;
    },
  };
}
