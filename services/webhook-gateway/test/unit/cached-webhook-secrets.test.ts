import { expect } from 'chai';
import { AppError } from '@stacklink/errors';
import { createCachedWebhookSecrets } from '../../src/adapters/cached-webhook-secrets';
import type { SecretsLookup } from '../../src/domain/ports';

function source() {
  const calls: string[] = [];
  let answer: SecretsLookup | Error = { kind: 'found', secrets: ['s1'] };
  let gate: Promise<void> | undefined;
  return {
    calls,
    set(a: SecretsLookup | Error) {
      answer = a;
    },
    hold() {
      let release!: () => void;
      gate = new Promise((r) => (release = r));
      return () => {
        gate = undefined;
        release();
      };
    },
    load: async (id: string): Promise<SecretsLookup> => {
      calls.push(id);
      if (gate) await gate;
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
}

describe('cached webhook secrets', () => {
  let clock = 0;
  const now = () => clock;
  const options = { ttlMs: 30_000, unknownTtlMs: 10_000, staleMs: 60_000, now };

  beforeEach(() => {
    clock = 1_000_000;
  });

  it('serves repeated lookups from memory within the TTL and fetches again after it', async () => {
    const src = source();
    const cache = createCachedWebhookSecrets(src.load, options);
    await cache.getSecrets('i1');
    clock += 29_000;
    await cache.getSecrets('i1');
    expect(src.calls).to.have.length(1);
    clock += 2_000;
    await cache.getSecrets('i1');
    expect(src.calls).to.have.length(2);
  });

  it('answers from memory without waiting only while the answer is fresh, and never after a change', async () => {
    const src = source();
    const cache = createCachedWebhookSecrets(src.load, options);
    expect(cache.cached('i1')).to.equal(undefined);

    await cache.getSecrets('i1');
    expect(cache.cached('i1')).to.deep.equal({ kind: 'found', secrets: ['s1'] });
    clock += 31_000;
    // Expired: the caller must ask getSecrets, which refetches (or serves it stale if the source is down).
    expect(cache.cached('i1')).to.equal(undefined);

    await cache.getSecrets('i1');
    cache.invalidate('i1');
    expect(cache.cached('i1')).to.equal(undefined);
    expect(src.calls).to.have.length(2);
  });

  it('remembers an unknown integration briefly, so a flood of the same random id makes one call', async () => {
    const src = source();
    src.set({ kind: 'unknown' });
    const cache = createCachedWebhookSecrets(src.load, options);
    for (let i = 0; i < 50; i++) expect((await cache.getSecrets('nope')).kind).to.equal('unknown');
    expect(src.calls).to.have.length(1);
    clock += 11_000;
    await cache.getSecrets('nope');
    expect(src.calls).to.have.length(2);
  });

  it('keeps at most maxUnknownEntries unknown ids, so random ids cannot grow memory without bound', async () => {
    const src = source();
    src.set({ kind: 'unknown' });
    const cache = createCachedWebhookSecrets(src.load, { ...options, maxUnknownEntries: 100 });
    for (let i = 0; i < 1000; i++) await cache.getSecrets(`random-${i}`);
    expect(cache.unknownSize()).to.equal(100);
    expect(cache.size()).to.equal(0);
  });

  it('10,000 random ids evict no known secret: it keeps serving while the source is down', async () => {
    const src = source();
    const cache = createCachedWebhookSecrets(src.load, { ...options, maxEntries: 10_000 });
    await cache.getSecrets('real');
    src.set({ kind: 'unknown' });
    for (let i = 0; i < 10_000; i++) await cache.getSecrets(`random-${i}`);
    expect(cache.known('real')).to.equal(true);

    clock += 31_000;
    src.set(new AppError('WEBHOOK.SECRETS_UNAVAILABLE', 'down', { status: 503, retryable: true }));
    expect(await cache.getSecrets('real')).to.deep.equal({ kind: 'found', secrets: ['s1'] });
  });

  it('an integration stays known after an invalidation (a rotation), and stops being known once it is unknown', async () => {
    const src = source();
    const cache = createCachedWebhookSecrets(src.load, options);
    expect(cache.known('i1')).to.equal(false);
    await cache.getSecrets('i1');
    cache.invalidate('i1');
    expect(cache.known('i1')).to.equal(true);
    src.set({ kind: 'unknown' });
    await cache.getSecrets('i1');
    expect(cache.known('i1')).to.equal(false);
  });

  it('makes one call for concurrent lookups of the same id', async () => {
    const src = source();
    const cache = createCachedWebhookSecrets(src.load, options);
    const release = src.hold();
    const lookups = Promise.all([cache.getSecrets('i1'), cache.getSecrets('i1'), cache.getSecrets('i1')]);
    release();
    const results = await lookups;
    expect(results.every((r) => r.kind === 'found')).to.equal(true);
    expect(src.calls).to.have.length(1);
  });

  it('when the source is down, a cached secret keeps working within the stale window, then the error surfaces', async () => {
    const src = source();
    const cache = createCachedWebhookSecrets(src.load, options);
    await cache.getSecrets('i1');
    src.set(new AppError('WEBHOOK.SECRETS_UNAVAILABLE', 'down', { retryable: true }));
    clock += 31_000;
    expect(await cache.getSecrets('i1')).to.deep.equal({ kind: 'found', secrets: ['s1'] });
    clock += 60_000;
    let err: unknown;
    try {
      await cache.getSecrets('i1');
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(AppError);
  });

  it('when the source is down and nothing is cached, the lookup fails', async () => {
    const src = source();
    src.set(new AppError('WEBHOOK.SECRETS_UNAVAILABLE', 'down', { retryable: true }));
    const cache = createCachedWebhookSecrets(src.load, options);
    let err: unknown;
    try {
      await cache.getSecrets('i1');
    } catch (e) {
      err = e;
    }
    expect((err as AppError).code).to.equal('WEBHOOK.SECRETS_UNAVAILABLE');
  });

  it('after invalidate, the next lookup fetches the new secrets, and a fetch begun before it is not stored', async () => {
    const src = source();
    const cache = createCachedWebhookSecrets(src.load, options);
    const release = src.hold();
    const old = cache.getSecrets('i1');
    cache.invalidate('i1');
    release();
    await old;
    src.set({ kind: 'found', secrets: ['s2'] });
    expect(await cache.getSecrets('i1')).to.deep.equal({ kind: 'found', secrets: ['s2'] });
    expect(src.calls).to.have.length(2);
  });
});
