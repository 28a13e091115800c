import { expect } from 'chai';
import { waitFor } from '@stacklink/testing';
import { System, type Stack } from '../support/system';
import {
  expectEveryAcceptedPushFinished,
  push,
  pushMany,
  runKey,
  setUpRepositories,
  type SentPush,
} from '../support/workload';

/**
 * docs/architecture.md §5 and §9 when the broker goes away: the gateways reach RabbitMQ through a TCP proxy
 * that drops every connection mid-burst. While it is down they answer 503 (never a 202 they cannot keep);
 * once it is back they reconnect on their own, and everything they answered 202 is processed.
 */
describe('end to end: the gateways lose RabbitMQ in the middle of a burst', function () {
  this.timeout(120_000);
  let system: System;
  let stacks: Stack[];

  before(async function () {
    this.timeout(90_000);
    system = await System.start({ label: 'broker-cut' });
    stacks = await setUpRepositories(system, 5);
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.error(system.tails());
  });

  after(async function () {
    this.timeout(60_000);
    await system?.close();
  });

  it('answers 503 while the broker is unreachable and processes every delivery it answered 202', async () => {
    const before = await pushMany(system, stacks, { from: 0, count: 40, concurrency: 4 });
    expect(before.map((s) => s.delivery.status)).to.satisfy((list: number[]) => list.every((s) => s === 202));

    await system.brokerProxy.cut();
    const during: SentPush[] = [];
    let n = 40;
    // Deliveries keep coming while the gateways notice; stop once both have answered 503 a few times.
    await waitFor(
      async () => {
        during.push(await push(system, stacks, n++));
        return during.filter((s) => s.delivery.status === 503).length >= 6;
      },
      { timeoutMs: 30_000, intervalMs: 0, message: 'the gateways did not answer 503 with the broker cut' },
    );
    expect(
      during.map((s) => s.delivery.status),
      'only 202 (published before the cut was noticed) or 503',
    ).to.satisfy((list: number[]) => list.every((s) => s === 202 || s === 503));
    for (const gateway of system.gateways) {
      expect((await fetch(`${gateway.url}/readyz`)).status, `${gateway.name} not ready`).to.equal(503);
    }

    await system.brokerProxy.restore();
    await waitFor(
      async () => {
        for (const gateway of system.gateways)
          if ((await fetch(`${gateway.url}/readyz`)).status !== 200) return false;
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 100, message: 'the gateways did not reconnect to RabbitMQ' },
    );
    const after = await pushMany(system, stacks, { from: n, count: 40, concurrency: 4 });
    expect(after.map((s) => s.delivery.status)).to.satisfy((list: number[]) => list.every((s) => s === 202));

    const sent = [...before, ...during, ...after];
    const accepted = sent.filter((s) => s.delivery.status === 202);
    // A publish the broker got just before the cut, whose confirm never came back, was answered 503 and
    // may still produce its run: at least once, never a duplicate.
    const refused = new Set(sent.filter((s) => s.delivery.status === 503).map(runKey));
    await expectEveryAcceptedPushFinished(system, stacks, accepted, {
      timeoutMs: 60_000,
      allowedExtra: refused,
    });
    await system.settle({ quietMs: 1000, timeoutMs: 30_000 });
    await system.stopAll();
    const depths = await system.queueDepths();
    expect(
      Object.values(depths).every((d) => d === 0),
      JSON.stringify(depths),
    ).to.equal(true);
  });
});
