import { expect } from 'chai';
import Redis from 'ioredis';
import { createBitbucketClient } from '@stacklink/bitbucket';
import { startSimulator, type BitbucketSimulator } from '@stacklink/bitbucket-simulator';
import { createSilentLogger } from '@stacklink/logger';
import { deleteNamespace, REDIS_URL, uniqueNamespace, waitFor } from '@stacklink/testing';
import { createRedisReconcilerLease } from '../../src/adapters/redis-reconciler-lease';
import { openSqliteStore } from '../../src/adapters/sqlite/sqlite-store';
import type { Store } from '../../src/adapters/store';
import { createReconcileWebhooks } from '../../src/domain/reconcile-webhooks';
import { createRecoverMissedEvents } from '../../src/domain/recover-missed-events';
import type { ReconcilerLeasePort } from '../../src/domain/reconciler-ports';
import { stackInput } from '../support/events';

const logger = createSilentLogger();
const metrics = { webhookAction() {}, recoveryCycle() {}, leader() {} };

describe('reconciler lease with a fencing token (docs/architecture.md §14)', () => {
  let namespace: string;
  let redis: Redis;

  beforeEach(() => {
    namespace = uniqueNamespace('reconciler-lease');
    redis = new Redis(REDIS_URL);
  });
  afterEach(async () => {
    await deleteNamespace({ namespace, redisUrl: REDIS_URL });
    redis.disconnect();
  });

  const lease = (holder: string, leaseMs: number) =>
    createRedisReconcilerLease({ redis, namespace, holder, leaseMs });

  it('one holder at a time; each new term gets a larger token', async () => {
    const a = lease('a', 5000);
    const b = lease('b', 5000);
    const first = await a.acquire();
    expect(first).to.be.a('number');
    expect(await b.acquire()).to.equal(undefined);
    expect(await a.acquire(), 'renewal keeps the term').to.equal(first);
    await a.release();
    const second = await b.acquire();
    expect(second).to.be.greaterThan(first!);
  });

  it('a paused leader that wakes up after losing the lease is refused at its fencing check', async () => {
    const paused = lease('paused', 300);
    const standby = lease('standby', 5000);
    await paused.acquire();
    await paused.assertHeld();
    // The leader "pauses": it renews nothing; the standby takes the lease once it has run out.
    await waitFor(async () => (await standby.acquire()) !== undefined, {
      timeoutMs: 5000,
      message: 'the standby never took the lease',
    });
    let refused: unknown;
    try {
      await paused.assertHeld();
    } catch (err) {
      refused = err;
    }
    expect((refused as { code?: string }).code).to.equal('RECONCILER.LEASE_LOST');
    expect(await paused.acquire(), 'and it cannot take it back while the standby holds it').to.equal(
      undefined,
    );
  });

  describe('a replica without the lease makes no change', () => {
    let sim: BitbucketSimulator;
    let store: Store;
    const lost: ReconcilerLeasePort = {
      holder: 'gone',
      acquire: async () => undefined,
      assertHeld: async () => {
        throw Object.assign(new Error('lease lost'), { code: 'RECONCILER.LEASE_LOST' });
      },
      token: () => undefined,
      release: async () => undefined,
    };

    beforeEach(async () => {
      sim = await startSimulator();
      sim.addUser({ name: 'admin', token: 'admin-token', permission: 'admin' });
      sim.addRepository({ project: 'PRJ', slug: 'infra', files: ['infra/prod/main.tf'] });
      store = openSqliteStore(':memory:');
      await store.stacks.create(stackInput());
    });
    afterEach(async () => {
      await sim.close();
      await store.close();
    });

    it('creates no webhook', async () => {
      const client = createBitbucketClient({ baseUrl: sim.url, token: 'admin-token' });
      const reconcile = createReconcileWebhooks({
        stacks: store.stacks,
        health: store.webhookHealth,
        integrations: {
          settings: async () => ({ mode: 'managed', scope: 'repository' }),
          webhookSecret: async () => 'integration-secret',
        },
        lease: lost,
        call: (_id, request) => request(client),
        metrics,
        logger,
        publicWebhookBaseUrl: 'https://hooks.example.test',
      });
      let error: unknown;
      await reconcile('int-1').catch((err: unknown) => (error = err));
      expect((error as { code?: string }).code).to.equal('RECONCILER.LEASE_LOST');
      expect(sim.recorded.webhooks).to.deep.equal([]);
      expect(sim.recorded.requests.filter((r) => r.method !== 'GET')).to.deep.equal([]);
    });

    it('feeds no recovered event into the trigger path', async () => {
      const client = createBitbucketClient({ baseUrl: sim.url, token: 'admin-token' });
      const fed: unknown[] = [];
      // The repository was looked at before (heads seen), then main moved without an event.
      await store.seenHeads.record('int-1', { projectKey: 'PRJ', slug: 'infra' }, [
        { key: 'baseline', commit: '-' },
        {
          key: 'refs/heads/main',
          commit: sim.state.repository('PRJ', 'infra')!.refs.get('refs/heads/main')!,
        },
      ]);
      await sim.push({ project: 'PRJ', repo: 'infra', branch: 'main', files: ['infra/prod/vpc.tf'] });
      const recover = createRecoverMissedEvents({
        stacks: store.stacks,
        seenHeads: store.seenHeads,
        lease: lost,
        call: (_id, request) => request(client),
        handleVcsEvent: async (event) => {
          fed.push(event);
          return { created: [], existing: [], canceled: [], retried: [], overCap: [], skipped: [] };
        },
        recordDecision: async () => undefined,
        metrics,
        logger,
      });
      // The first cycle notices the head; the second would feed it, and is refused at its fencing check.
      await recover();
      let error: unknown;
      await recover().catch((err: unknown) => (error = err));
      expect((error as { code?: string }).code).to.equal('RECONCILER.LEASE_LOST');
      expect(fed).to.deep.equal([]);
    });
  });
});
