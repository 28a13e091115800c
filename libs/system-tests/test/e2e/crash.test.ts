import { expect } from 'chai';
import { System, type Stack } from '../support/system';
import { expectEveryAcceptedPushFinished, pushMany, runKey, setUpRepositories } from '../support/workload';

const DELIVERIES = 200;

/**
 * docs/architecture.md §9 under crashes: a 202 means the event is on a durable queue and produces its runs
 * even if a worker dies at any moment afterwards; every consumer is idempotent. One trigger worker and one
 * reporter are killed with SIGKILL in the middle of a burst and restarted, as a supervisor would.
 */
describe('end to end: a burst of 200 deliveries while a trigger worker and a reporter crash', function () {
  this.timeout(180_000);
  let system: System;
  let stacks: Stack[];

  before(async function () {
    this.timeout(90_000);
    system = await System.start({ label: 'crash' });
    stacks = await setUpRepositories(system, 10);
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.error(system.tails());
  });

  after(async function () {
    this.timeout(60_000);
    await system?.close();
  });

  it('every accepted delivery produces exactly its run, every run its final status, nothing left on a queue', async () => {
    const [trigger, reporter] = [system.triggers[0]!, system.reporters[0]!];
    let crashed: Promise<void> | undefined;
    let restarted: Promise<void> | undefined;
    const sent = await pushMany(system, stacks, { from: 0, count: DELIVERIES, concurrency: 8 }, (_, done) => {
      // Crash while the burst is in full flow; restart once a few dozen more deliveries went through.
      if (done === 60) crashed = Promise.all([trigger.kill9(), reporter.kill9()]).then(() => undefined);
      if (done === 110)
        restarted = crashed!
          .then(() => Promise.all([trigger.start(), reporter.start()]))
          .then(() => undefined);
    });
    await restarted;
    expect(trigger.pids, 'the trigger worker ran as two processes').to.have.length(2);
    expect(reporter.pids, 'the reporter ran as two processes').to.have.length(2);

    const accepted = sent.filter((s) => s.delivery.status === 202);
    expect(
      sent.filter((s) => s.delivery.status !== 202).map((s) => [s.delivery.status, s.delivery.error]),
      'the gateways accepted every delivery',
    ).to.deep.equal([]);
    const runs = await expectEveryAcceptedPushFinished(system, stacks, accepted, { timeoutMs: 120_000 });
    // A push to main redelivered after the crash, once a newer commit of its stack had its tracked run, is
    // superseded (docs/architecture.md §12): never a proposed run, and no run beside it.
    const superseded = accepted.filter((p) => !runs.some((r) => runKey(r) === runKey(p)));
    expect(
      superseded.filter((p) => p.type !== 'tracked'),
      'only pushes to main are superseded',
    ).to.deep.equal([]);
    expect(runs).to.have.length(DELIVERIES - superseded.length);

    // Stopped consumers hand back anything unacked, so a depth of 0 now means nothing was left behind.
    await system.settle({ quietMs: 1000, timeoutMs: 30_000 });
    await system.stopAll();
    expect(await system.queueDepths()).to.deep.equal({
      'stack-trigger.vcs-events': 0,
      'stack-trigger.status-updates': 0,
      'runs.ready': 0,
      'stack-trigger.vcs-events.dlq': 0,
      'stack-trigger.status-updates.dlq': 0,
      'runs.ready.dlq': 0,
    });
  });
});
