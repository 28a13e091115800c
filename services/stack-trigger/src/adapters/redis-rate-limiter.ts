import type Redis from 'ioredis';
import { AppError } from '@stacklink/errors';
import { redisKeyPrefix } from './redis-run-queue';

export interface RateLimit {
  /** Requests per second, sustained. */
  perSecond: number;
  /** Requests that may go at once after a quiet period (at least 1). */
  burst: number;
}

/**
 * One token bucket per Bitbucket host in Redis, shared by every reporter replica, as a GCRA
 * ("theoretical arrival time"): `tat` is when the bucket would be full again. A caller reserves the
 * next free slot and is told how long to wait for it, so concurrent callers are paced exactly at the
 * rate instead of polling. Redis's own clock is used, so replicas with skewed clocks agree.
 *
 * ARGV: interval ms (1000 / perSecond), burst tolerance ms ((burst - 1) × interval), most ms a caller
 * may wait. Returns the ms to wait (0 = go now), or -ms when the slot is further away than allowed
 * (nothing reserved).
 */
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - tolerance - now
if wait < 0 then wait = 0 end
if wait > tonumber(ARGV[3]) then return -math.ceil(wait) end
tat = tat + interval
redis.call('SET', KEYS[1], tostring(tat), 'PX', math.ceil(math.max(1, tat - now + 1000)))
return math.ceil(wait)`;

/** Bitbucket said 429: nobody sends to the host before `Retry-After` has passed, then at the rate. */
const PAUSE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local paused = now + tonumber(ARGV[1]) + tonumber(ARGV[2])
if paused > tat then
  redis.call('SET', KEYS[1], tostring(paused), 'PX', math.ceil(math.max(1, paused - now + 1000)))
end
return 1`;

type Scripted = Redis & {
  reporterTake(...args: (string | number)[]): Promise<number>;
  reporterPause(...args: (string | number)[]): Promise<number>;
};

export interface HostRateLimiter {
  /** Resolves when a request to `host` may go; throws REPORTER.RATE_LIMITED (retryable) past `maxWaitMs`. */
  acquire(host: string, limit: RateLimit): Promise<void>;
  /** Holds every replica back from `host` for `ms` (a 429's Retry-After). */
  pause(host: string, limit: RateLimit, ms: number): Promise<void>;
}

export interface RedisRateLimiterOptions {
  redis: Redis;
  namespace: string;
  /** Longest a caller waits in-process for its slot; beyond it the message goes back to the bus. */
  maxWaitMs: number;
  sleep?: (ms: number) => Promise<void>;
}

export function createRedisRateLimiter(options: RedisRateLimiterOptions): HostRateLimiter {
  const redis = options.redis as Scripted;
  if (typeof (redis as unknown as Record<string, unknown>).reporterTake !== 'function') {
    redis.defineCommand('reporterTake', { numberOfKeys: 1, lua: TAKE });
    redis.defineCommand('reporterPause', { numberOfKeys: 1, lua: PAUSE });
  }
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const key = (host: string) => `${redisKeyPrefix(options.namespace)}reporter:bucket:${host}`;
  const shape = (limit: RateLimit) => {
    const interval = 1000 / limit.perSecond;
    return { interval, tolerance: (Math.max(1, limit.burst) - 1) * interval };
  };
  return {
    async acquire(host, limit) {
      const { interval, tolerance } = shape(limit);
      const wait = Number(await redis.reporterTake(key(host), interval, tolerance, options.maxWaitMs));
      if (wait < 0) {
        throw new AppError(
          'REPORTER.RATE_LIMITED',
          `the request budget for ${host} is taken for ${-wait} ms`,
          {
            status: 503,
            retryable: true,
            details: { host, waitMs: -wait },
          },
        );
      }
      if (wait > 0) await sleep(wait);
    },
    async pause(host, limit, ms) {
      await redis.reporterPause(key(host), Math.ceil(ms), shape(limit).tolerance);
    },
  };
}
