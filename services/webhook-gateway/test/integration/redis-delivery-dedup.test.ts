import { expect } from 'chai';
import Redis from 'ioredis';
import { createTcpProxy, REDIS_URL, uniqueNamespace } from '@stacklink/testing';
import { createRedisDeliveryDedup } from '../../src/adapters/redis-delivery-dedup';

describe('redis delivery dedup (real Redis)', () => {
  let redis: Redis;
  let prefix: string;

  beforeEach(() => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    prefix = `${uniqueNamespace()}:`;
  });

  afterEach(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  const keyOf = (delivery: string) => `${prefix}gateway:delivery:int-1:${delivery}`;
  const dedupOn = (client: Redis, pendingTtlSeconds = 60) =>
    createRedisDeliveryDedup(client, { keyPrefix: prefix, ttlSeconds: 600, pendingTtlSeconds });
  /**
   * Counts the script calls clients send on this test's keys from now on; the returned function stops
   * and answers. MONITOR shows the scripts' own calls too, so only EVALSHA/EVAL are counted. MONITOR
   * lines arrive after the commands' replies, in the order Redis ran them: stopping sends a marker and
   * waits for its line, so every call made before it has been seen.
   */
  const watchScriptCalls = async (): Promise<() => Promise<number>> => {
    const monitor = await redis.monitor();
    const marker = `${prefix}end-of-watch`;
    let calls = 0;
    let markerSeen: () => void = () => undefined;
    const seen = new Promise<void>((resolve) => (markerSeen = resolve));
    monitor.on('monitor', (_time: string, args: string[]) => {
      const command = String(args[0]).toLowerCase();
      if (args.includes(marker)) markerSeen();
      else if ((command === 'evalsha' || command === 'eval') && args.some((a) => a.startsWith(prefix)))
        calls++;
    });
    return async () => {
      await redis.echo(marker);
      await seen;
      monitor.disconnect();
      return calls;
    };
  };

  it('claims a new delivery as pending, reports it in flight, then a duplicate once published', async () => {
    const dedup = dedupOn(redis, 30);

    expect(await dedup.claim('int-1', 'd-1')).to.equal('claimed');
    expect(await redis.get(keyOf('d-1'))).to.equal('pending');
    expect(await redis.ttl(keyOf('d-1'))).to.be.within(25, 30);
    expect(await dedup.claim('int-1', 'd-1')).to.equal('in_flight');

    await dedup.markPublished('int-1', 'd-1');

    expect(await redis.get(keyOf('d-1'))).to.equal('done');
    expect(await redis.ttl(keyOf('d-1'))).to.be.within(595, 600);
    expect(await dedup.claim('int-1', 'd-1')).to.equal('duplicate');
    // The same request id for another integration is another delivery.
    expect(await dedup.claim('int-2', 'd-1')).to.equal('claimed');
  });

  it('answers a burst of concurrent claims with one command, each delivery with its own answer', async () => {
    const dedup = dedupOn(redis);
    await dedup.claim('int-1', 'published');
    await dedup.markPublished('int-1', 'published');
    await dedup.claim('int-1', 'pending');
    const scriptCalls = await watchScriptCalls();

    const answers = await Promise.all([
      dedup.claim('int-1', 'new-a'),
      dedup.claim('int-1', 'published'),
      dedup.claim('int-1', 'pending'),
      dedup.claim('int-1', 'new-b'),
      // The same delivery twice in one burst: only one copy may go on to publish.
      dedup.claim('int-1', 'new-a'),
    ]);
    await Promise.all([dedup.markPublished('int-1', 'new-a'), dedup.markPublished('int-1', 'new-b')]);
    const calls = await scriptCalls();

    expect(answers).to.deep.equal(['claimed', 'duplicate', 'in_flight', 'claimed', 'in_flight']);
    expect(await redis.mget(keyOf('new-a'), keyOf('new-b'))).to.deep.equal(['done', 'done']);
    // The client sent one call per burst: the claims, then the marks.
    expect(calls).to.equal(2);
  });

  it('sends the marks and the claims of one round as one command, marks first', async () => {
    const dedup = dedupOn(redis);
    await dedup.claim('int-1', 'confirmed');
    await dedup.claim('int-1', 'other');
    const scriptCalls = await watchScriptCalls();

    const [, , retried, fresh] = await Promise.all([
      dedup.markPublished('int-1', 'confirmed'),
      dedup.markPublished('int-1', 'other'),
      // Bitbucket's retry of a delivery confirmed in the same round is already a duplicate.
      dedup.claim('int-1', 'confirmed'),
      dedup.claim('int-1', 'fresh'),
    ]);
    const calls = await scriptCalls();

    expect([retried, fresh]).to.deep.equal(['duplicate', 'claimed']);
    expect(await redis.mget(keyOf('confirmed'), keyOf('other'), keyOf('fresh'))).to.deep.equal([
      'done',
      'done',
      'pending',
    ]);
    expect(calls).to.equal(1);
  });

  it('claims again a pending delivery whose claim expired (the gateway that held it died)', async () => {
    const dedup = dedupOn(redis, 1);

    expect(await dedup.claim('int-1', 'd-1')).to.equal('claimed');
    await new Promise((r) => setTimeout(r, 1200));

    expect(await dedup.claim('int-1', 'd-1')).to.equal('claimed');
  });

  it('releases only a pending claim, never a published delivery', async () => {
    const dedup = dedupOn(redis);
    await dedup.claim('int-1', 'failed');
    await dedup.claim('int-1', 'published');
    await dedup.markPublished('int-1', 'published');

    await dedup.release('int-1', 'failed');
    await dedup.release('int-1', 'published');

    expect(await dedup.claim('int-1', 'failed')).to.equal('claimed');
    expect(await dedup.claim('int-1', 'published')).to.equal('duplicate');
  });

  it('says unavailable, for every claim of the burst, when Redis cannot be reached', async () => {
    const target = new URL(REDIS_URL);
    const proxy = await createTcpProxy({
      targetHost: target.hostname,
      targetPort: Number(target.port || 6379),
    });
    const cut = new Redis(proxy.urlFor(REDIS_URL), { maxRetriesPerRequest: 0, commandTimeout: 500 });
    cut.on('error', () => undefined);
    try {
      const dedup = dedupOn(cut);
      expect(await dedup.claim('int-1', 'before')).to.equal('claimed');
      await proxy.cut();

      const answers = await Promise.all([dedup.claim('int-1', 'a'), dedup.claim('int-1', 'b')]);
      const marked = await dedup.markPublished('int-1', 'before').then(
        () => 'marked',
        () => 'refused',
      );

      expect(answers).to.deep.equal(['unavailable', 'unavailable']);
      expect(marked).to.equal('refused');
      expect(await redis.exists(keyOf('a'), keyOf('b'))).to.equal(0);
    } finally {
      cut.disconnect();
      await proxy.close();
    }
  });
});
