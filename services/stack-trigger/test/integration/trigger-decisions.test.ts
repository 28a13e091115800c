import { expect } from 'chai';
import { waitFor } from '@stacklink/testing';
import { startTriggerHarness, waitForRuns, type TriggerHarness } from '../support/trigger-harness';

/**
 * The trigger worker's half of the delivery history (docs/architecture.md §13), through the real bus,
 * store, gateway and Bitbucket simulator: every handled event leaves its decision, written before the
 * ack and keyed by event id.
 */
describe('trigger worker: the decision of every event goes to the delivery history', function () {
  this.timeout(30_000);
  let h: TriggerHarness;

  before(async () => {
    h = await startTriggerHarness();
  });
  after(async () => {
    await h?.close();
  });
  afterEach(async () => {
    await h.stopWorkers();
  });

  const decisionsOf = (deliveryId: string, count: number) =>
    waitFor(
      async () => {
        const { decisions } = await h.store.deliveries.get(deliveryId);
        return decisions.length >= count ? decisions : undefined;
      },
      { timeoutMs: 10_000, message: `no ${count} decision(s) for delivery ${deliveryId}` },
    );

  it('records run-created for the touched stack and files-untouched, with the changed files, for the other', async () => {
    const slug = h.addRepository();
    const app = await h.addStack(slug);
    const other = await h.addStack(slug, { name: `other-${slug}`, projectRoot: 'stacks/other' });
    await h.startWorker();

    const { deliveries } = await h.sim.push({
      project: 'PRJ',
      repo: slug,
      branch: 'main',
      files: ['stacks/app/main.tf', 'README.md'],
    });
    const [run] = await waitForRuns(h, app.id, 1);
    const [decision] = await decisionsOf(deliveries[0]!.requestId, 1);
    expect(decision!.stacks.find((s) => s.stackId === app.id)).to.deep.equal({
      stackId: app.id,
      outcome: 'run-created',
      runId: run!.id,
    });
    const skipped = decision!.stacks.find((s) => s.stackId === other.id)!;
    expect(skipped).to.include({ outcome: 'skipped', reason: 'files-untouched' });
    expect(skipped.detail).to.equal(
      'refs/heads/main: no file under stacks/other changed; changed: README.md, stacks/app/main.tf',
    );
    // The confirmation (§12) and the changed-files lookup, in that order.
    expect(decision!.bitbucketCalls).to.have.length(2);
    expect(decision!.bitbucketCalls[0]).to.match(/^GET branches containing [0-9a-f]{12} in /);
    expect(decision!.bitbucketCalls[1]).to.match(/^GET changes of refs\/heads\/main /);
    expect(decision!.event.id).to.equal(decision!.eventId);
  });

  it('counts the run an event created before a crash as its own when the event comes again', async () => {
    const slug = h.addRepository();
    const app = await h.addStack(slug);
    h.deliverTo('sink');
    const { deliveries } = await h.sim.push({
      project: 'PRJ',
      repo: slug,
      branch: 'main',
      files: ['stacks/app/main.tf'],
    });
    h.deliverTo('gateway');
    await h.startWorker();
    // The same event twice: what RabbitMQ redelivers after a worker died between its runs and its ack.
    const event = await h.publishDelivery(deliveries[0]!);
    const [first] = await decisionsOf(event.deliveryId, 1);
    await h.publishEvent(event);
    const [again] = await waitFor(
      async () => {
        const { decisions } = await h.store.deliveries.get(event.deliveryId);
        return decisions.length === 1 && decisions[0]!.decidedAt !== first!.decidedAt ? decisions : undefined;
      },
      { timeoutMs: 10_000, message: 'the event was not decided again' },
    );
    const runs = await h.store.runs.listByStack(app.id);
    expect(runs).to.have.length(1);
    expect(first!.stacks).to.deep.equal([{ stackId: app.id, outcome: 'run-created', runId: runs[0]!.id }]);
    // Decided again, one record per event id, and the run is still this event's own.
    expect(again!.stacks).to.deep.equal(first!.stacks);
  });
});
