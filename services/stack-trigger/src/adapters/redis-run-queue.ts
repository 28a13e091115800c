import type Redis from 'ioredis';
import type { Run } from '../domain/model';
import type { QueuedRunRef, RunQueuePort } from '../domain/ports';

/**
 * Per-stack run queues in Redis (docs/architecture.md §3, §7). Everything here can be rebuilt from the store.
 *
 * Keys, under `<NAMESPACE>:stack-trigger:` (or `stack-trigger:` without a namespace):
 * - `q:<stackId>:tracked`, `q:<stackId>:proposed` — sorted sets of waiting run ids, scored by sequence;
 * - `active:<stackId>` — the tracked run currently handed out (one at a time);
 * - `leases` — sorted set of handed-out run ids scored by lease expiry (ms); `lease-info` — id → stack|type;
 * - `built` — present once the queues reflect the store.
 * Every multi-key change is one Lua script, so two workers never hand out the same run.
 *
 * ENQUEUE answers -1 for a run that is handed out (it holds a lease): it stays out, and is not queued
 * again behind itself.
 */
const ENQUEUE = `
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return -1 end
return redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])`;

const REMOVE = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('HDEL', KEYS[5], ARGV[1])
if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
return 1`;

const DISPATCH = `
local out = {}
local proposed = redis.call('ZRANGE', KEYS[2], 0, -1)
for _, id in ipairs(proposed) do
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZADD', KEYS[4], ARGV[1], id)
  redis.call('HSET', KEYS[5], id, ARGV[2] .. '|proposed')
  table.insert(out, id)
end
if redis.call('EXISTS', KEYS[3]) == 0 then
  local head = redis.call('ZRANGE', KEYS[1], 0, 0)
  if head[1] then
    redis.call('ZREM', KEYS[1], head[1])
    redis.call('SET', KEYS[3], head[1])
    redis.call('ZADD', KEYS[4], ARGV[1], head[1])
    redis.call('HSET', KEYS[5], head[1], ARGV[2] .. '|tracked')
    table.insert(out, head[1])
  end
end
return out`;

const RENEW = `
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], 'XX', ARGV[2], ARGV[1])
return 1`;

const CLAIM_EXPIRED = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  redis.call('ZADD', KEYS[1], ARGV[2], id)
  table.insert(out, id)
  table.insert(out, redis.call('HGET', KEYS[2], id) or '')
end
return out`;

/** Puts a handed-out run back at its place; a tracked run frees the stack's slot. */
const REQUEUE = `
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('HDEL', KEYS[5], ARGV[1])
if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
return redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])`;

/** A RUNNING run found at rebuild keeps holding its lease (and the stack's tracked slot). */
const RESTORE_RUNNING = `
redis.call('ZADD', KEYS[2], 'NX', ARGV[2], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3] .. '|' .. ARGV[4])
if ARGV[4] == 'tracked' then redis.call('SET', KEYS[1], ARGV[1], 'NX') end
return 1`;

type ScriptName = 'enqueue' | 'remove' | 'dispatch' | 'renew' | 'claimExpired' | 'requeue' | 'restoreRunning';

const SCRIPTS: Record<ScriptName, { keys: number; lua: string }> = {
  enqueue: { keys: 2, lua: ENQUEUE },
  remove: { keys: 5, lua: REMOVE },
  dispatch: { keys: 5, lua: DISPATCH },
  renew: { keys: 1, lua: RENEW },
  claimExpired: { keys: 2, lua: CLAIM_EXPIRED },
  requeue: { keys: 5, lua: REQUEUE },
  restoreRunning: { keys: 3, lua: RESTORE_RUNNING },
};

type Scripted = Redis & Record<ScriptName, (...args: (string | number)[]) => Promise<unknown>>;

export interface RedisRunQueueOptions {
  redis: Redis;
  namespace: string;
  leaseSeconds: number;
  now?: () => number;
}

export function redisKeyPrefix(namespace: string): string {
  return namespace === '' ? 'stack-trigger:' : `${namespace}:stack-trigger:`;
}

export function createRedisRunQueue(options: RedisRunQueueOptions): RunQueuePort & { prefix: string } {
  const redis = options.redis as Scripted;
  for (const [name, script] of Object.entries(SCRIPTS)) {
    if (typeof (redis as unknown as Record<string, unknown>)[name] !== 'function') {
      redis.defineCommand(name, { numberOfKeys: script.keys, lua: script.lua });
    }
  }
  const prefix = redisKeyPrefix(options.namespace);
  const now = options.now ?? Date.now;
  const leaseMs = options.leaseSeconds * 1000;
  const key = {
    queue: (stackId: string, type: Run['type']) => `${prefix}q:${stackId}:${type}`,
    active: (stackId: string) => `${prefix}active:${stackId}`,
    leases: `${prefix}leases`,
    leaseInfo: `${prefix}lease-info`,
    built: `${prefix}built`,
  };
  const stackKeys = (stackId: string) => [
    key.queue(stackId, 'tracked'),
    key.queue(stackId, 'proposed'),
    key.active(stackId),
    key.leases,
    key.leaseInfo,
  ];

  return {
    prefix,
    async enqueue(run) {
      const added = await redis.enqueue(key.queue(run.stackId, run.type), key.leases, run.id, run.sequence);
      return added === -1 ? 'handed_out' : 'queued';
    },
    async remove(run: QueuedRunRef) {
      await redis.remove(...stackKeys(run.stackId), run.id);
    },
    async dispatch(stackId) {
      return (await redis.dispatch(...stackKeys(stackId), now() + leaseMs, stackId)) as string[];
    },
    async renewLease(runId) {
      return (await redis.renew(key.leases, runId, now() + leaseMs)) === 1;
    },
    async claimExpiredLeases(at = now()) {
      const flat = (await redis.claimExpired(key.leases, key.leaseInfo, at, at + leaseMs, 100)) as string[];
      const claimed: QueuedRunRef[] = [];
      for (let i = 0; i < flat.length; i += 2) {
        const [stackId = '', type = 'proposed'] = (flat[i + 1] ?? '').split('|');
        claimed.push({ id: flat[i]!, stackId, type: type === 'tracked' ? 'tracked' : 'proposed' });
      }
      return claimed;
    },
    async requeue(run) {
      const keys = stackKeys(run.stackId);
      keys[0] = key.queue(run.stackId, run.type);
      await redis.requeue(...keys, run.id, run.sequence);
    },
    async rebuild(activeRuns) {
      for (const run of activeRuns) {
        if (run.state === 'RUNNING') {
          await redis.restoreRunning(
            key.active(run.stackId),
            key.leases,
            key.leaseInfo,
            run.id,
            now() + leaseMs,
            run.stackId,
            run.type,
          );
        } else if (run.state === 'QUEUED') {
          await redis.enqueue(key.queue(run.stackId, run.type), key.leases, run.id, run.sequence);
        }
      }
      await redis.set(key.built, new Date(now()).toISOString());
    },
    async isBuilt() {
      return (await redis.exists(key.built)) === 1;
    },
  };
}
