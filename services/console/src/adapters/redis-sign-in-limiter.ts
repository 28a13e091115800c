import type { Redis } from 'ioredis';

export interface SignInLimiterPort {
  /** Whether this client may try (it has not used up its failures in the current window). */
  allowed(client: string): Promise<boolean>;
  failed(client: string): Promise<void>;
}

/**
 * Failed sign-ins per client address in a fixed window, shared by every console replica through
 * Redis (a rate-limit bucket: docs/architecture.md §3). Only failures count; a refusal says nothing
 * about whether the token would have been right.
 */
export function createRedisSignInLimiter(options: {
  redis: Redis;
  keyPrefix: string;
  maxFailures: number;
  windowSeconds: number;
}): SignInLimiterPort {
  const key = (client: string) => `${options.keyPrefix}sign-in-failures:${client}`;
  return {
    async allowed(client) {
      const count = Number((await options.redis.get(key(client))) ?? 0);
      return count < options.maxFailures;
    },
    async failed(client) {
      const count = await options.redis.incr(key(client));
      // The window starts with the first failure; a key left without expiry would lock out for good.
      if (count === 1 || (await options.redis.ttl(key(client))) < 0)
        await options.redis.expire(key(client), options.windowSeconds);
    },
  };
}
