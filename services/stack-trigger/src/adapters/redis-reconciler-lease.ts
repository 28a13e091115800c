import type Redis from 'ioredis';
import { AppError } from '@stacklink/errors';
import type { ReconcilerLeasePort } from '../domain/reconciler-ports';
import { redisKeyPrefix } from './redis-run-queue';

/**
 * Takes or renews the lease. KEYS: lease, fencing counter. ARGV: holder, lease ms. The lease's value is
 * `<holder> <token>`; a new holder gets the next token of the counter (INCR), so every term has its own.
 * Returns the token held, or 0 when another holder has the lease.
 */
const ACQUIRE = `
local current = redis.call('GET', KEYS[1])
if current then
  local holder, token = string.match(current, '^(%S+) (%d+)$')
  if holder == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return tonumber(token)
  end
  return 0
end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. token, 'PX', ARGV[2])
return token`;

/** Whether `<holder> <token>` still holds the lease (an expired lease holds nothing). KEYS: lease. */
const HOLDS = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end
return 0`;

/** Gives the lease up if still ours, so a standby takes over at once. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

type Scripted = Redis & {
  reconcilerAcquire(...args: (string | number)[]): Promise<number>;
  reconcilerHolds(...args: (string | number)[]): Promise<number>;
  reconcilerRelease(...args: (string | number)[]): Promise<number>;
};

export function leaseLost(detail: string): AppError {
  return new AppError('RECONCILER.LEASE_LOST', `this reconciler no longer holds the lease: ${detail}`, {
    status: 409,
    retryable: false,
  });
}

/**
 * The reconciler's lease with a fencing token (docs/architecture.md §14): one active replica. Every
 * Bitbucket write and every run creation first checks, in Redis, that this replica's term is still the
 * current one (`assertHeld`), so a replica that paused past its lease and wakes up makes no change.
 */
export function createRedisReconcilerLease(options: {
  redis: Redis;
  namespace: string;
  holder: string;
  leaseMs: number;
}): ReconcilerLeasePort {
  const redis = options.redis as Scripted;
  if (typeof redis.reconcilerAcquire !== 'function') {
    redis.defineCommand('reconcilerAcquire', { numberOfKeys: 2, lua: ACQUIRE });
    redis.defineCommand('reconcilerHolds', { numberOfKeys: 1, lua: HOLDS });
    redis.defineCommand('reconcilerRelease', { numberOfKeys: 1, lua: RELEASE });
  }
  const prefix = redisKeyPrefix(options.namespace);
  const leaseKey = `${prefix}reconciler:lease`;
  const fenceKey = `${prefix}reconciler:fence`;
  let token = 0;
  const value = () => `${options.holder} ${token}`;
  return {
    holder: options.holder,
    async acquire() {
      // Integer milliseconds only: PX with anything else is a Redis error (validators.durationMs).
      const got = Number(
        await redis.reconcilerAcquire(leaseKey, fenceKey, options.holder, Math.round(options.leaseMs)),
      );
      token = got;
      return got === 0 ? undefined : got;
    },
    async assertHeld() {
      if (token === 0) throw leaseLost('it has not taken it');
      if (Number(await redis.reconcilerHolds(leaseKey, value())) !== 1)
        throw leaseLost(`term ${token} is over`);
    },
    token: () => (token === 0 ? undefined : token),
    async release() {
      if (token !== 0) await redis.reconcilerRelease(leaseKey, value());
      token = 0;
    },
  };
}
