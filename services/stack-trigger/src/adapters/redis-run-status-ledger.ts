import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import type { LedgerClaim, RunStatusLedgerPort } from '../domain/reporter-ports';
import { redisKeyPrefix } from './redis-run-queue';

/**
 * The last commit-status version posted per run, and a short per-run claim (docs/architecture.md §8 "only the
 * latest state of a run is posted"). Keys under `<NAMESPACE>:stack-trigger:`:
 * `reporter:run:<runId>` = last posted version (kept `versionTtlSeconds`), `reporter:claim:<runId>` =
 * the token of the replica posting it now (renewed while it posts; expires `claimTtlMs` after the last
 * renewal, so a crashed replica frees it), `reporter:attempt:<runId>` = the newest version a claim was
 * taken for, which may be in Bitbucket even though it was never recorded as posted.
 *
 * Why a claim and not "post, then compare-and-set": two replicas holding versions 2 and 3 of a run
 * could both pass the check, and Bitbucket would keep whichever request landed last. With the claim,
 * version 3 waits for 2 to finish (then posts), or 2 finds 3 already posted (then drops itself).
 *
 * Why the attempt: a replica killed after Bitbucket took version 3 and before recording it leaves the
 * posted version at 1. Once its claim lapses, a late version 2 would pass the posted check and put
 * INPROGRESS over SUCCESSFUL. Version 2 is dropped because 3 was attempted; version 3's own update, handed
 * back by the broker, is posted again (the same version may be posted twice, an older one never after it).
 * A replica whose status post failed with an answer (nothing landed) puts the attempt back where it
 * found it; one whose status went through and a later call (report, comment) failed leaves it.
 * If Redis loses these keys, a late older update may be posted once more; within Redis's memory an
 * older state never follows a newer one.
 */
const CLAIM = `
local version = tonumber(ARGV[1])
local posted = tonumber(redis.call('GET', KEYS[1]) or '0')
if posted >= version then return {'stale', tostring(posted)} end
local attempted = tonumber(redis.call('GET', KEYS[3]) or '0')
if attempted > version then return {'stale', tostring(attempted)} end
-- The token names the version claimed and the attempt found, so its release can put the attempt back.
local token = ARGV[2] .. '.' .. ARGV[1] .. '.' .. tostring(attempted)
if redis.call('SET', KEYS[2], token, 'NX', 'PX', ARGV[3]) then
  if version > attempted then redis.call('SET', KEYS[3], ARGV[1], 'EX', ARGV[4]) end
  return {'claimed', token}
end
return {'busy', ''}`;

const COMMIT = `
local posted = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > posted then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3]) end
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
return 1`;

const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

// Only the holder of the claim moves the attempt, so putting back what it found undoes only its own;
// a status that landed (ARGV[2] = '1') keeps it.
const RELEASE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
if ARGV[2] == '1' then return 1 end
local version, found = string.match(ARGV[1], '%.(%d+)%.(%d+)$')
if redis.call('GET', KEYS[2]) == version then
  if found == '0' then redis.call('DEL', KEYS[2]) else redis.call('SET', KEYS[2], found, 'KEEPTTL') end
end
return 1`;

type Scripted = Redis & {
  reporterClaim(...args: (string | number)[]): Promise<[string, string]>;
  reporterCommit(...args: (string | number)[]): Promise<number>;
  reporterRenew(...args: (string | number)[]): Promise<number>;
  reporterRelease(...args: (string | number)[]): Promise<number>;
};

export interface RedisRunStatusLedgerOptions {
  redis: Redis;
  namespace: string;
  /**
   * How soon the claim of a replica that died is free again. A live replica renews it every third of
   * this while it posts, so it need not outlast the slowest post.
   */
  claimTtlMs?: number;
  versionTtlSeconds?: number;
}

export function createRedisRunStatusLedger(options: RedisRunStatusLedgerOptions): RunStatusLedgerPort {
  const redis = options.redis as Scripted;
  if (typeof (redis as unknown as Record<string, unknown>).reporterClaim !== 'function') {
    redis.defineCommand('reporterClaim', { numberOfKeys: 3, lua: CLAIM });
    redis.defineCommand('reporterCommit', { numberOfKeys: 2, lua: COMMIT });
    redis.defineCommand('reporterRenew', { numberOfKeys: 1, lua: RENEW });
    redis.defineCommand('reporterRelease', { numberOfKeys: 2, lua: RELEASE });
  }
  const prefix = `${redisKeyPrefix(options.namespace)}reporter:`;
  const versionKey = (runId: string) => `${prefix}run:${runId}`;
  const claimKey = (runId: string) => `${prefix}claim:${runId}`;
  const attemptKey = (runId: string) => `${prefix}attempt:${runId}`;
  const claimTtlMs = options.claimTtlMs ?? 15_000;
  const versionTtlSeconds = options.versionTtlSeconds ?? 30 * 86_400;
  return {
    claimTtlMs,
    async claim(runId, version): Promise<LedgerClaim> {
      const [outcome, value] = await redis.reporterClaim(
        versionKey(runId),
        claimKey(runId),
        attemptKey(runId),
        version,
        randomUUID(),
        claimTtlMs,
        versionTtlSeconds,
      );
      if (outcome === 'stale') return { outcome, posted: Number(value) };
      if (outcome === 'claimed') return { outcome, token: value };
      return { outcome: 'busy' };
    },
    async commit(runId, version, token) {
      await redis.reporterCommit(versionKey(runId), claimKey(runId), version, token, versionTtlSeconds);
    },
    async renew(runId, token) {
      return (await redis.reporterRenew(claimKey(runId), token, claimTtlMs)) === 1;
    },
    async release(runId, token, statusLanded) {
      await redis.reporterRelease(claimKey(runId), attemptKey(runId), token, statusLanded ? '1' : '0');
    },
  };
}
