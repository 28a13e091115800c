import { expect } from 'chai';
import Redis from 'ioredis';
import { createSilentLogger } from '@stacklink/logger';
import { deleteNamespace, REDIS_URL, uniqueNamespace } from '@stacklink/testing';
import { createRedisHostHealthStore } from '../../src/adapters/redis-host-health-store';
import { createHostHealth } from '../../src/domain/host-health';
import type { HostHealthRecord } from '../../src/domain/ports';

const HOST = 'https://bitbucket.example.com';

describe('Redis host health store', () => {
  let namespace: string;
  let redis: Redis;

  beforeEach(() => {
    namespace = uniqueNamespace('host-health');
    redis = new Redis(REDIS_URL);
  });

  afterEach(async () => {
    await deleteNamespace({ namespace, redisUrl: REDIS_URL });
    redis.disconnect();
  });

  const down = (version: number): HostHealthRecord => ({
    state: 'down',
    failures: 3,
    downSince: 1,
    pauseMs: 1000,
    until: 1001,
    version,
  });

  it('writes a record only over the version it read, so of two writers exactly one wins', async () => {
    const store = createRedisHostHealthStore({ redis, namespace });
    expect(await store.read(HOST)).to.equal(undefined);
    const results = await Promise.all([
      store.compareAndSet(HOST, 0, down(1)),
      store.compareAndSet(HOST, 0, { ...down(1), pauseMs: 2000 }),
    ]);
    expect(results.filter(Boolean)).to.have.length(1);
    expect((await store.read(HOST))?.version).to.equal(1);
    expect(await store.compareAndSet(HOST, 0, down(1)), 'a stale version').to.equal(false);
    expect(await store.compareAndSet(HOST, 1, { ...down(2), state: 'probing' })).to.equal(true);
    expect(await store.read(HOST)).to.deep.include({ state: 'probing', version: 2 });
    expect(await redis.ttl(`${namespace}:stack-trigger:bitbucket-host:${HOST}`)).to.be.above(0);
  });

  it('lets exactly one of many callers across breaker instances probe a host whose pause is over', async () => {
    let clock = 10_000;
    const breakers = Array.from({ length: 8 }, () =>
      createHostHealth({
        store: createRedisHostHealthStore({ redis, namespace }),
        settings: { failureThreshold: 1, minPauseMs: 500, maxPauseMs: 4000, probeLeaseMs: 1000 },
        logger: createSilentLogger(),
        metrics: { observed: () => undefined, held: () => undefined },
        now: () => clock,
      }),
    );
    const first = await breakers[0]!.admit(HOST);
    expect(await breakers[0]!.record(HOST, 'down', first)).to.deep.equal({ down: true, retryInMs: 500 });
    clock += 500;
    const admissions = await Promise.all(breakers.map((b) => b.admit(HOST)));
    expect(admissions.filter((a) => a.allowed)).to.deep.equal([{ allowed: true, probe: true }]);
  });
});
