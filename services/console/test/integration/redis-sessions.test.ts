import { expect } from 'chai';
import { Redis } from 'ioredis';
import { deleteNamespace, REDIS_URL, uniqueNamespace } from '@stacklink/testing';
import { consoleKeyPrefix, createRedisSessions } from '../../src/adapters/redis-sessions';
import { createRedisSignInLimiter } from '../../src/adapters/redis-sign-in-limiter';

describe('console sessions and sign-in limit in Redis', () => {
  let redis: Redis;
  let namespace: string;
  let now: number;

  beforeEach(() => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    namespace = uniqueNamespace('console-sessions');
    now = Date.parse('2026-01-01T00:00:00Z');
  });

  afterEach(async () => {
    redis.disconnect();
    await deleteNamespace({ namespace, redisUrl: REDIS_URL });
  });

  const sessions = () =>
    createRedisSessions({
      redis,
      keyPrefix: consoleKeyPrefix(namespace),
      idleSeconds: 60,
      maxSeconds: 300,
      now: () => now,
    });

  it('creates a random session with its own CSRF token, and Redis keeps only a hash of its id', async () => {
    const store = sessions();
    const a = await store.create(true);
    const b = await store.create(true);
    expect(a.id).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(a.id).not.to.equal(b.id);
    expect(a.csrfToken).not.to.equal(b.csrfToken);
    const keys = await redis.keys(`${namespace}:console:session:*`);
    expect(keys).to.have.length(2);
    for (const key of keys) {
      expect(key).not.to.contain(a.id).and.not.to.contain(b.id);
      expect(await redis.get(key)).not.to.contain(a.id);
    }
    expect(await store.touch(a.id)).to.deep.include({ id: a.id, signedIn: true, csrfToken: a.csrfToken });
  });

  it('ends a session unused for longer than the idle time', async () => {
    const store = sessions();
    const s = await store.create(true);
    now += 59_000;
    expect(await store.touch(s.id)).to.not.equal(undefined);
    now += 59_000;
    expect(await store.touch(s.id)).to.not.equal(undefined);
    now += 61_000;
    expect(await store.touch(s.id)).to.equal(undefined);
  });

  it('peeks at a session without restarting its idle clock, and finds a destroyed one gone', async () => {
    const store = sessions();
    const s = await store.create(true);
    now += 40_000;
    expect(await store.peek(s.id)).to.deep.include({ id: s.id, signedIn: true });
    now += 30_000;
    expect(await store.peek(s.id), 'idle 70 s: peeking did not count as use').to.equal(undefined);
    const t = await store.create(true);
    expect(await store.peek(t.id)).to.not.equal(undefined);
    await store.destroy(t.id);
    expect(await store.peek(t.id)).to.equal(undefined);
  });

  it('ends a session at its absolute expiry however often it is used', async () => {
    const store = sessions();
    const s = await store.create(true);
    for (let i = 0; i < 5; i++) {
      now += 55_000;
      expect(await store.touch(s.id)).to.not.equal(undefined);
    }
    now += 30_000;
    expect(await store.touch(s.id)).to.equal(undefined);
    expect(await redis.keys(`${namespace}:console:session:*`)).to.deep.equal([]);
  });

  it('keeps an anonymous (sign-in form) session for a short time only', async () => {
    const store = createRedisSessions({
      redis,
      keyPrefix: consoleKeyPrefix(namespace),
      idleSeconds: 3600,
      maxSeconds: 7200,
      now: () => now,
    });
    const anonymous = await store.create(false);
    const signedIn = await store.create(true);
    now += 601_000;
    expect(await store.touch(anonymous.id)).to.equal(undefined);
    expect(await store.touch(signedIn.id)).to.not.equal(undefined);
  });

  it('forgets a destroyed session and ignores ids of the wrong form', async () => {
    const store = sessions();
    const s = await store.create(false);
    await store.destroy(s.id);
    expect(await store.touch(s.id)).to.equal(undefined);
    expect(await store.touch('../../etc')).to.equal(undefined);
  });

  it('refuses a client after its failures in the window, and only that client', async () => {
    const limiter = createRedisSignInLimiter({
      redis,
      keyPrefix: consoleKeyPrefix(namespace),
      maxFailures: 3,
      windowSeconds: 60,
    });
    for (let i = 0; i < 3; i++) {
      expect(await limiter.allowed('10.0.0.1')).to.equal(true);
      await limiter.failed('10.0.0.1');
    }
    expect(await limiter.allowed('10.0.0.1')).to.equal(false);
    expect(await limiter.allowed('10.0.0.2')).to.equal(true);
    const ttl = await redis.ttl(`${namespace}:console:sign-in-failures:10.0.0.1`);
    expect(ttl).to.be.within(1, 60);
  });
});
