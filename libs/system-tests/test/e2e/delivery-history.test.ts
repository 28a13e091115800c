import path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { WEBHOOK_EVENTS, type Delivery } from '@stacklink/bitbucket-simulator';
import { waitFor } from '@stacklink/testing';
import { System, type Run, type Stack } from '../support/system';

const PROJECT = 'PRJ';
const REPO = 'platform';

interface StackDecision {
  stackId: string;
  stackName?: string;
  outcome: string;
  reason?: string;
  detail?: string;
  runId?: string;
}

interface DeliveryView {
  deliveryId: string;
  records: { outcome: string; status: number; eventId?: string; [field: string]: unknown }[];
  event?: { id: string; type: string; summary: string };
  decisions: { eventId: string; redeliveryOf?: string; stacks: StackDecision[]; runIds: string[] }[];
  runs: Run[];
}

interface DeliveryList {
  deliveries: { deliveryId: string; outcome: string; status: number; [field: string]: unknown }[];
  nextCursor?: string;
}

/**
 * "Why did, or didn't, it run?" across every role as its own OS process (docs/architecture.md §13): the
 * gateways' records of every answered delivery, the trigger's decision per stack, and a redelivery
 * that creates only what is missing. The runner stays off, so runs stay as the trigger left them.
 *
 * Three stacks of one repository: `network` (stacks/network, main), `database` (stacks/database, main)
 * and `edge` (stacks/edge, release). A push never yields `branch-mismatch`: a push to a branch other than
 * the stack's proposes a run (§7), and an untouched stack is `files-untouched` whatever the branch. The
 * branch mismatch is shown by a pull request into main, which `edge` (on release) does not track.
 */
describe('end to end: the delivery history says why each stack did or did not run', function () {
  this.timeout(60_000);
  let system: System;
  let integrationId: string;
  let secret: string;
  let network: Stack;
  let database: Stack;
  let edge: Stack;
  let push: { commit: string; deliveries: Delivery[] };

  before(async function () {
    this.timeout(90_000);
    system = await System.start({ label: 'history', startRunner: false });
    const created = await system.createIntegration();
    integrationId = created.id;
    secret = created.webhook.secret;
    system.sim.addRepository({
      project: PROJECT,
      slug: REPO,
      files: ['README.md', 'stacks/network/main.tf', 'stacks/database/main.tf', 'stacks/edge/main.tf'],
    });
    system.sim.addWebhook({
      project: PROJECT,
      repo: REPO,
      url: created.webhook.endpoint,
      secret,
      events: [...WEBHOOK_EVENTS],
      name: 'stacklink',
    });
    const base = { integrationId, repository: { projectKey: PROJECT, slug: REPO } };
    network = await system.createStack({
      ...base,
      name: 'network',
      branch: 'main',
      projectRoot: 'stacks/network',
    });
    database = await system.createStack({
      ...base,
      name: 'database',
      branch: 'main',
      projectRoot: 'stacks/database',
    });
    edge = await system.createStack({ ...base, name: 'edge', branch: 'release', projectRoot: 'stacks/edge' });
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.error(system.tails());
  });

  after(async function () {
    this.timeout(60_000);
    await system?.close();
  });

  const api = <T>(method: string, urlPath: string, expected?: number[]) =>
    system.call<T>(system.api, method, urlPath, undefined, expected);

  /** The delivery once `ready` says it shows what the test waits for. */
  function deliveryOnce(deliveryId: string, ready: (view: DeliveryView) => boolean): Promise<DeliveryView> {
    return waitFor(
      async () => {
        const view = await api<DeliveryView | { error: unknown }>(
          'GET',
          `/api/v1/deliveries/${encodeURIComponent(deliveryId)}`,
          [200, 404],
        );
        return 'deliveryId' in view && ready(view) ? view : undefined;
      },
      { timeoutMs: 20_000, message: `delivery ${deliveryId} never showed what the test waits for` },
    );
  }

  function listed(outcome: string, deliveryId: string) {
    return waitFor(
      async () => {
        const page = await api<DeliveryList>(
          'GET',
          `/api/v1/deliveries?integrationId=${integrationId}&outcome=${outcome}&limit=100`,
        );
        return page.deliveries.find((d) => d.deliveryId === deliveryId);
      },
      { timeoutMs: 20_000, message: `delivery ${deliveryId} was never listed as ${outcome}` },
    );
  }

  const decisionOf = (stacks: StackDecision[], stack: Stack) => stacks.filter((s) => s.stackId === stack.id);

  it('a push touching one of three stacks shows run-created for it and files-untouched, with the files, for the others', async () => {
    push = await system.sim.push({
      project: PROJECT,
      repo: REPO,
      branch: 'main',
      files: ['stacks/network/vpc.tf', 'docs/README.md'],
    });
    expect(push.deliveries.map((d) => d.status)).to.deep.equal([202]);
    const deliveryId = push.deliveries[0]!.requestId;
    const view = await deliveryOnce(deliveryId, (v) => v.decisions.length === 1);

    expect(view.records.map((r) => [r.outcome, r.status])).to.deep.equal([['accepted', 202]]);
    expect(view.event?.type).to.equal('push');
    const [decision] = view.decisions;
    const created = decisionOf(decision!.stacks, network);
    expect(created.map((s) => s.outcome)).to.deep.equal(['run-created']);
    expect(view.runs.map((r) => [r.id, r.stackId, r.type, r.commit])).to.deep.equal([
      [created[0]!.runId, network.id, 'tracked', push.commit],
    ]);
    // The run links back to its delivery.
    expect(view.runs[0]!.trigger).to.include({ deliveryId, eventId: decision!.eventId });

    for (const [stack, root] of [
      [database, 'stacks/database'],
      [edge, 'stacks/edge'],
    ] as const) {
      const [skipped] = decisionOf(decision!.stacks, stack);
      expect(skipped).to.include({ outcome: 'skipped', reason: 'files-untouched', stackName: stack.name });
      expect(skipped!.detail).to.contain(`no file under ${root} changed`);
      expect(skipped!.detail).to.contain('stacks/network/vpc.tf').and.to.contain('docs/README.md');
    }
    expect((await system.runsOf(database.id)).length + (await system.runsOf(edge.id)).length).to.equal(0);
  });

  it('a pull request into main shows branch-mismatch for the stack that tracks release', async () => {
    await system.sim.push({ project: PROJECT, repo: REPO, branch: 'feature', files: ['stacks/edge/cdn.tf'] });
    const pr = await system.sim.openPullRequest({
      project: PROJECT,
      repo: REPO,
      from: 'feature',
      to: 'main',
    });
    const view = await deliveryOnce(pr.deliveries[0]!.requestId, (v) => v.decisions.length === 1);
    const [mismatch] = decisionOf(view.decisions[0]!.stacks, edge);
    expect(mismatch).to.include({ outcome: 'skipped', reason: 'branch-mismatch' });
    expect(mismatch!.detail).to.contain('refs/heads/main');
  });

  it('a pull request from a fork shows fork-not-allowed', async () => {
    system.sim.addRepository({ project: '~ALICE', slug: REPO, forkOf: { project: PROJECT, repo: REPO } });
    await system.sim.push({
      project: '~ALICE',
      repo: REPO,
      branch: 'forked',
      files: ['stacks/network/fork.tf'],
    });
    const pr = await system.sim.openPullRequest({
      project: PROJECT,
      repo: REPO,
      from: 'forked',
      fromRepo: { project: '~ALICE', repo: REPO },
      to: 'main',
    });
    const view = await deliveryOnce(pr.deliveries[0]!.requestId, (v) => v.decisions.length === 1);
    expect(decisionOf(view.decisions[0]!.stacks, network)).to.deep.include({
      stackId: network.id,
      stackName: 'network',
      outcome: 'skipped',
      reason: 'fork-not-allowed',
      detail: 'pull request from a fork',
    });
    expect(view.runs).to.deep.equal([]);
  });

  it('a delivery with a wrong signature is listed as invalid_signature, without its body', async () => {
    const original = push.deliveries[0]!;
    const deliveryId = `forged-${Date.now()}`;
    const res = await fetch(original.url, {
      method: 'POST',
      headers: {
        ...original.headers,
        'X-Request-Id': deliveryId,
        'X-Hub-Signature': `sha256=${'0'.repeat(64)}`,
      },
      body: original.body,
    });
    expect(res.status).to.equal(401);
    const record = await listed('invalid_signature', deliveryId);
    expect(record).to.include({ integrationId, status: 401, outcome: 'invalid_signature' });
    expect(Object.keys(record).sort()).to.deep.equal(
      ['deliveryId', 'eventKey', 'id', 'integrationId', 'outcome', 'reason', 'receivedAt', 'status'].sort(),
    );
    expect(JSON.stringify(record)).to.not.contain('stacks/network');
  });

  it('the same delivery sent again is listed as duplicate beside the accepted one', async () => {
    const original = push.deliveries[0]!;
    const res = await fetch(original.url, { method: 'POST', headers: original.headers, body: original.body });
    expect(res.status).to.equal(200);
    await listed('duplicate', original.requestId);
    const view = await deliveryOnce(original.requestId, (v) => v.records.length === 2);
    expect(view.records.map((r) => r.outcome).sort()).to.deep.equal(['accepted', 'duplicate']);
  });

  it('a redelivery of the push creates no second run: its decision finds the run existing', async () => {
    const deliveryId = push.deliveries[0]!.requestId;
    const first = await deliveryOnce(deliveryId, (v) => v.decisions.length === 1);
    const answer = await system.call<{ eventId: string; redeliveryOf: string }>(
      system.api,
      'POST',
      `/api/v1/deliveries/${deliveryId}/redeliver`,
      undefined,
      [202],
    );
    expect(answer.redeliveryOf).to.equal(first.decisions[0]!.eventId);
    expect(answer.eventId).to.not.equal(answer.redeliveryOf);
    const view = await deliveryOnce(deliveryId, (v) => v.decisions.length === 2);
    const again = view.decisions.find((d) => d.eventId === answer.eventId)!;
    expect(again.redeliveryOf).to.equal(answer.redeliveryOf);
    expect(decisionOf(again.stacks, network).map((s) => [s.outcome, s.runId])).to.deep.equal([
      ['existing-run', first.runs[0]!.id],
    ]);
    expect((await system.runsOf(network.id)).map((r) => r.id)).to.deep.equal([first.runs[0]!.id]);
  });

  it('after its run is deleted from the store, a redelivery creates only that missing run', async () => {
    const deliveryId = push.deliveries[0]!.requestId;
    const [lost] = await system.runsOf(network.id);
    const db = new Database(path.join(system.dir, 'stacklink.db'));
    try {
      expect(db.prepare('DELETE FROM stack_trigger_runs WHERE id = ?').run(lost!.id).changes).to.equal(1);
    } finally {
      db.close();
    }
    const answer = await system.call<{ eventId: string }>(
      system.api,
      'POST',
      `/api/v1/deliveries/${deliveryId}/redeliver`,
      undefined,
      [202],
    );
    const view = await deliveryOnce(deliveryId, (v) => v.decisions.some((d) => d.eventId === answer.eventId));
    const third = view.decisions.find((d) => d.eventId === answer.eventId)!;
    const recreated = decisionOf(third.stacks, network);
    expect(recreated.map((s) => s.outcome)).to.deep.equal(['run-created']);
    const runs = await system.runsOf(network.id);
    expect(runs.map((r) => [r.id, r.commit, r.type])).to.deep.equal([
      [recreated[0]!.runId, push.commit, 'tracked'],
    ]);
    expect(runs[0]!.id).to.not.equal(lost!.id);
    expect(await system.runsOf(database.id), 'nothing else was created').to.deep.equal([]);
  });

  it('refuses to redeliver a delivery that was never accepted (409) or is unknown (404)', async () => {
    const forged = (
      await api<DeliveryList>(
        'GET',
        `/api/v1/deliveries?integrationId=${integrationId}&outcome=invalid_signature`,
      )
    ).deliveries[0]!;
    const refused = await system.call<{ error: { code: string } }>(
      system.api,
      'POST',
      `/api/v1/deliveries/${forged.deliveryId}/redeliver`,
      undefined,
      [409],
    );
    expect(refused.error.code).to.equal('DELIVERY.NOT_ACCEPTED');
    const unknown = await system.call<{ error: { code: string } }>(
      system.api,
      'POST',
      '/api/v1/deliveries/no-such-delivery/redeliver',
      undefined,
      [404],
    );
    expect(unknown.error.code).to.equal('DELIVERY.NOT_FOUND');
  });

  it('counts the records a broker outage could not carry as dropped, and records new deliveries once it is back', async () => {
    let pingId = '';
    const dropped = () =>
      system.metricSum(system.gateways, /^stacklink_gateway_delivery_records_dropped_total\{/);
    const before = await dropped();
    await system.brokerProxy.cut();
    try {
      // Bitbucket's "Test connection": answered 200 without the broker, so its record waits in the buffer.
      const pinged = await system.sim.ping();
      expect(pinged.deliveries.map((d) => d.status)).to.deep.equal([200]);
      pingId = pinged.deliveries[0]!.requestId;
      await waitFor(async () => (await dropped()) > before, {
        timeoutMs: 20_000,
        message: 'no delivery record was counted as dropped while the broker was cut',
      });
    } finally {
      await system.brokerProxy.restore();
    }
    await waitFor(
      async () => {
        for (const gateway of system.gateways)
          if ((await fetch(`${gateway.url}/readyz`)).status !== 200) return false;
        return true;
      },
      { timeoutMs: 30_000, message: 'the gateways did not reconnect to the broker' },
    );
    const after = await system.sim.push({
      project: PROJECT,
      repo: REPO,
      branch: 'main',
      files: ['stacks/database/db.tf'],
    });
    expect(after.deliveries.map((d) => d.status)).to.deep.equal([202]);
    const view = await deliveryOnce(after.deliveries[0]!.requestId, (v) => v.decisions.length === 1);
    expect(decisionOf(view.decisions[0]!.stacks, database).map((s) => s.outcome)).to.deep.equal([
      'run-created',
    ]);
    // The dropped record stays dropped: never sent again ahead of new deliveries.
    const pings = await api<DeliveryList>(
      'GET',
      `/api/v1/deliveries?integrationId=${integrationId}&outcome=ping`,
    );
    expect(pings.deliveries.map((d) => d.deliveryId)).to.not.include(pingId);
  });
});
