import type Redis from 'ioredis';
import type { DedupClaim, DeliveryDedupPort } from '../domain/ports';

// One call per event-loop round: first marks the deliveries whose publish the broker confirmed as done
// (remembered for the dedup window), then claims every new delivery as pending, or says what it
// already is. KEYS holds the ARGV[1] keys to mark, then the keys to claim; one answer per claim, in
// order. A key claimed twice in one call is claimed once and reported in flight the second time.
const ROUND = `
local marks = tonumber(ARGV[1])
for i = 1, marks do redis.call('SET', KEYS[i], 'done', 'EX', ARGV[3]) end
local answers = {}
for i = marks + 1, #KEYS do
  local key = KEYS[i]
  local answer
  if redis.call('SET', key, 'pending', 'NX', 'EX', ARGV[2]) then
    answer = 'claimed'
  else
    local v = redis.call('GET', key)
    if v == 'done' then answer = 'duplicate'
    elseif v == 'pending' then answer = 'in_flight'
    else
      redis.call('SET', key, 'pending', 'EX', ARGV[2])
      answer = 'claimed'
    end
  end
  answers[i - marks] = answer
end
return answers
`;

// Only a pending claim is released: a delivery already published stays remembered.
const RELEASE = `
if redis.call('GET', KEYS[1]) == 'pending' then return redis.call('DEL', KEYS[1]) end
return 0
`;

interface DedupCommands {
  stacklinkDedupRound(numberOfKeys: number, ...keysThenArgs: string[]): Promise<string[]>;
  stacklinkReleaseDelivery(key: string): Promise<number>;
}

/** The most keys one script call carries; a larger round is split over several calls. */
const MAX_BATCH = 256;

interface Waiting {
  key: string;
  /** true: mark as published; false: claim. */
  mark: boolean;
  resolve: (answer: string | undefined) => void;
  reject: (err: unknown) => void;
}

/**
 * Collects the claims and marks made while the event loop works through one round of I/O and sends
 * them as one command when that round ends. Under load a single Redis command then answers for every
 * delivery that arrived together and records every publish the broker confirmed in the meantime,
 * instead of a command (and its client-side cost and socket write) per delivery and step.
 */
function roundBatcher(
  send: (marks: string[], claims: string[]) => Promise<string[]>,
): (key: string, mark: boolean) => Promise<string | undefined> {
  let waiting: Waiting[] = [];
  const flush = () => {
    const calls = waiting;
    waiting = [];
    for (let i = 0; i < calls.length; i += MAX_BATCH) {
      const slice = calls.slice(i, i + MAX_BATCH);
      const marks = slice.filter((c) => c.mark);
      const claims = slice.filter((c) => !c.mark);
      send(
        marks.map((c) => c.key),
        claims.map((c) => c.key),
      ).then(
        (answers) => {
          for (const c of marks) c.resolve(undefined);
          claims.forEach((c, j) => c.resolve(answers[j]));
        },
        (err: unknown) => {
          for (const c of slice) c.reject(err);
        },
      );
    }
  };
  return (key, mark) =>
    new Promise((resolve, reject) => {
      if (waiting.length === 0) setImmediate(flush);
      waiting.push({ key, mark, resolve, reject });
    });
}

export function createRedisDeliveryDedup(
  redis: Redis,
  options: { keyPrefix: string; ttlSeconds: number; pendingTtlSeconds?: number },
): DeliveryDedupPort {
  const pendingTtl = String(options.pendingTtlSeconds ?? 60);
  const ttl = String(options.ttlSeconds);
  // defineCommand sends EVALSHA: the script text crosses the wire once, not on every call.
  if (!('stacklinkDedupRound' in redis)) {
    redis.defineCommand('stacklinkDedupRound', { lua: ROUND });
    redis.defineCommand('stacklinkReleaseDelivery', { numberOfKeys: 1, lua: RELEASE });
  }
  const commands = redis as unknown as DedupCommands;
  const key = (integrationId: string, deliveryId: string) =>
    `${options.keyPrefix}gateway:delivery:${integrationId}:${deliveryId}`;
  const inRound = roundBatcher((marks, claims) =>
    commands.stacklinkDedupRound(
      marks.length + claims.length,
      ...marks,
      ...claims,
      String(marks.length),
      pendingTtl,
      ttl,
    ),
  );
  return {
    async claim(integrationId, deliveryId): Promise<DedupClaim> {
      try {
        const result = await inRound(key(integrationId, deliveryId), false);
        return result === 'claimed' || result === 'duplicate' || result === 'in_flight'
          ? result
          : 'unavailable';
      } catch {
        return 'unavailable';
      }
    },
    async markPublished(integrationId, deliveryId) {
      await inRound(key(integrationId, deliveryId), true);
    },
    async release(integrationId, deliveryId) {
      await commands.stacklinkReleaseDelivery(key(integrationId, deliveryId));
    },
  };
}
