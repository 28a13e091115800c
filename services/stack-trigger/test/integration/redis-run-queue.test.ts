import { expect } from 'chai';
import Redis from 'ioredis';
import { createSilentLogger } from '@stacklink/logger';
import { deleteNamespace, REDIS_URL, uniqueNamespace } from '@stacklink/testing';
import { createRedisRunQueue } from '../../src/adapters/redis-run-queue';
import { openSqliteStore } from '../../src/adapters/sqlite/sqlite-store';
import type { Store } from '../../src/adapters/store';
import { createExpireRunLeases } from '../../src/domain/expire-run-leases';
import type { NewRun, Run, Stack } from '../../src/domain/model';
import { rebuildRunQueue } from '../../src/domain/rebuild-run-queue';
import { createReportRunState } from '../../src/domain/report-run-state';
import { recordingRunEvents } from '../support/fakes';
import { stackInput } from '../support/events';

const logger = createSilentLogger();

describe('Redis run queue', () => {
  let namespace: string;
  let redis: Redis;
  let store: Store;
  let stack: Stack;
  let clock: number;
  let queue: ReturnType<typeof createRedisRunQueue>;

  const newRun = async (n: number, type: Run['type'] = 'tracked', target = stack): Promise<Run> => {
    const input: NewRun = {
      stackId: target.id,
      type,
      commit: String(n).repeat(40).slice(0, 40),
      ref: 'refs/heads/main',
      trigger: { kind: 'manual' },
    };
    const { run } = await store.runs.create(input);
    await queue.enqueue(run);
    return run;
  };
  const ownKeys = async () => {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 500);
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0');
    return keys;
  };

  beforeEach(async () => {
    namespace = uniqueNamespace('queue');
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    store = openSqliteStore(':memory:');
    stack = await store.stacks.create(stackInput({ projectRoot: '' }));
    clock = 1_000_000;
    queue = createRedisRunQueue({ redis, namespace, leaseSeconds: 60, now: () => clock });
  });
  afterEach(async () => {
    await deleteNamespace({ namespace, redisUrl: REDIS_URL });
    redis.disconnect();
    await store.close();
  });

  it('keeps every key under the namespace prefix', async () => {
    await newRun(1);
    await queue.dispatch(stack.id);
    await queue.rebuild([]);
    const keys = await ownKeys();
    expect(keys).to.not.be.empty;
    expect(keys.every((k) => k.startsWith(`${namespace}:stack-trigger:`))).to.be.true;
  });

  it('hands out tracked runs one at a time, in creation order', async () => {
    const [a, b, c] = [await newRun(1), await newRun(2), await newRun(3)];
    expect(await queue.dispatch(stack.id)).to.deep.equal([a.id]);
    expect(await queue.dispatch(stack.id)).to.deep.equal([]);
    await queue.remove(a);
    expect(await queue.dispatch(stack.id)).to.deep.equal([b.id]);
    await queue.remove(b);
    expect(await queue.dispatch(stack.id)).to.deep.equal([c.id]);
  });

  it('hands out proposed runs alongside a tracked run that is out', async () => {
    const t1 = await newRun(1);
    await newRun(2);
    expect(await queue.dispatch(stack.id)).to.deep.equal([t1.id]);
    const p1 = await newRun(3, 'proposed');
    const p2 = await newRun(4, 'proposed');
    expect(await queue.dispatch(stack.id)).to.deep.equal([p1.id, p2.id]);
  });

  it('hands a run to only one of many concurrent dispatchers', async () => {
    const runs = [await newRun(1, 'proposed'), await newRun(2, 'proposed'), await newRun(3)];
    const results = await Promise.all(Array.from({ length: 8 }, () => queue.dispatch(stack.id)));
    const all = results.flat();
    expect(all).to.have.length(3);
    expect(new Set(all)).to.deep.equal(new Set(runs.map((r) => r.id)));
  });

  it('does not queue again a run that is already handed out, and says it is handed out', async () => {
    const a = await newRun(1);
    const b = await newRun(2);
    await queue.dispatch(stack.id);
    expect(await queue.enqueue(a)).to.equal('handed_out');
    expect(await queue.enqueue(b)).to.equal('queued');
    await queue.remove(a);
    await queue.remove(b);
    expect(await queue.dispatch(stack.id)).to.deep.equal([]);
  });

  it('rebuilds the queues from the store after its own keys are flushed, keeping the order', async () => {
    const [a, b, c] = [await newRun(1), await newRun(2), await newRun(3)];
    const p = await newRun(4, 'proposed');
    expect(await queue.dispatch(stack.id)).to.deep.equal([p.id, a.id]);
    await store.runs.transition(a.id, ['QUEUED'], 'RUNNING');

    await deleteNamespace({ namespace, redisUrl: REDIS_URL });
    expect(await ownKeys()).to.be.empty;
    expect(await queue.isBuilt()).to.be.false;

    const rebuilt = await rebuildRunQueue({ runs: store.runs, queue, logger });
    expect(rebuilt).to.deep.equal({ rebuilt: true, runs: 4 });
    expect(await queue.isBuilt()).to.be.true;
    // a is RUNNING: it keeps the stack's tracked slot, so b waits; p (QUEUED) is handed out again.
    expect(await queue.dispatch(stack.id)).to.deep.equal([p.id]);
    await queue.remove(a);
    expect(await queue.dispatch(stack.id)).to.deep.equal([b.id]);
    await queue.remove(b);
    expect(await queue.dispatch(stack.id)).to.deep.equal([c.id]);
    expect(await rebuildRunQueue({ runs: store.runs, queue, logger })).to.deep.equal({
      rebuilt: false,
      runs: 0,
    });
  });

  describe('leases', () => {
    const deps = () => {
      const runEvents = recordingRunEvents();
      return { stacks: store.stacks, runs: store.runs, queue, runEvents, logger };
    };

    it('extends the lease of a handed-out run and refuses to renew one it does not hold', async () => {
      const a = await newRun(1);
      await queue.dispatch(stack.id);
      clock += 50_000;
      expect(await queue.renewLease(a.id)).to.be.true;
      clock += 50_000;
      expect(await queue.claimExpiredLeases()).to.be.empty;
      expect(await queue.renewLease('nope')).to.be.false;
    });

    it('requeues at its place a run whose lease expired before any runner started it', async () => {
      const d = deps();
      const [a] = [await newRun(1), await newRun(2)];
      await queue.dispatch(stack.id);
      clock += 61_000;
      const result = await createExpireRunLeases(d)();
      expect(result.requeued.map((r) => r.id)).to.deep.equal([a.id]);
      expect((await store.runs.get(a.id))!.state).to.equal('QUEUED');
      // The same run is handed out again, ahead of the later one, which keeps waiting.
      expect(d.runEvents.ready.map((r) => r.id)).to.deep.equal([a.id]);
      expect(await queue.dispatch(stack.id)).to.deep.equal([]);
    });

    it('fails a running run whose lease expired, announces it and hands out the next tracked run', async () => {
      const d = deps();
      const [a, b] = [await newRun(1), await newRun(2)];
      await queue.dispatch(stack.id);
      await createReportRunState(d)(a.id, 'RUNNING');
      clock += 61_000;
      const result = await createExpireRunLeases(d)();
      expect(result.failed.map((r) => r.id)).to.deep.equal([a.id]);
      expect(await store.runs.get(a.id)).to.include({
        state: 'FAILED',
        note: 'lease expired: the runner stopped reporting',
      });
      expect(d.runEvents.stateChanged.map((r) => [r.id, r.state])).to.deep.include([a.id, 'FAILED']);
      expect(d.runEvents.ready.map((r) => r.id)).to.deep.equal([b.id]);
    });

    it('gives an expired lease to only one of two sweepers', async () => {
      await newRun(1);
      await queue.dispatch(stack.id);
      clock += 61_000;
      const [x, y] = await Promise.all([queue.claimExpiredLeases(), queue.claimExpiredLeases()]);
      expect(x.length + y.length).to.equal(1);
    });

    it('claims an expired lease again when the sweeper that claimed it died', async () => {
      await newRun(1);
      await queue.dispatch(stack.id);
      clock += 61_000;
      expect(await queue.claimExpiredLeases()).to.have.length(1);
      clock += 61_000;
      expect(await queue.claimExpiredLeases()).to.have.length(1);
    });
  });
});
