import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { sign } from '@stacklink/bitbucket';
import { WEBHOOK_EVENTS, type Delivery, type SimWebhook } from '@stacklink/bitbucket-simulator';
import { waitFor } from '@stacklink/testing';
import { System, type Run, type Stack } from '../support/system';

const PROJECT = 'PRJ';
const REPO = 'infra';

interface PushBody {
  repository: unknown;
  changes: {
    ref: { id: string; displayId: string; type: string };
    fromHash: string;
    toHash: string;
    type: string;
  }[];
}

interface PullRequestBody {
  pullRequest: {
    fromRef: { latestCommit: string; repository: unknown };
    toRef: { repository: unknown };
  };
}

/**
 * Bitbucket confirms before we act (docs/architecture.md §12), across every role as its own OS process:
 * bodies signed with the integration's secret, as someone holding that secret could send them, are
 * posted to the gateway; the trigger worker asks the Bitbucket simulator what is true before it starts
 * or cancels anything. The runner is not started, so every run stays where the trigger left it.
 */
describe('end to end: Bitbucket confirms a delivery before the trigger acts on it', function () {
  this.timeout(60_000);
  let system: System;
  let secret: string;
  let endpoint: string;
  let stack: Stack;
  let accepted = 0;
  /** A commit on main that touches the stack, pushed before the stack existed: no run yet. */
  let untriggered: string;
  let hook: SimWebhook;

  before(async function () {
    this.timeout(90_000);
    system = await System.start({ label: 'trust', startRunner: false });
    const created = await system.createIntegration();
    secret = created.webhook.secret;
    endpoint = created.webhook.endpoint;
    system.sim.addRepository({ project: PROJECT, slug: REPO, files: ['README.md', 'infra/main.tf'] });
    system.sim.addRepository({ project: PROJECT, slug: 'other', files: ['infra/main.tf'] });
    hook = system.sim.addWebhook({
      project: PROJECT,
      repo: REPO,
      url: endpoint,
      secret,
      events: [...WEBHOOK_EVENTS],
      name: 'stacklink',
    });
    const early = await system.sim.push({
      project: PROJECT,
      repo: REPO,
      branch: 'main',
      files: ['infra/a.tf'],
    });
    expectAccepted(early.deliveries);
    untriggered = early.commit;
    await waitUntilHandled();
    stack = await system.createStack({
      integrationId: created.id,
      repository: { projectKey: PROJECT, slug: REPO },
      branch: 'main',
      name: 'network',
      projectRoot: 'infra/',
      triggerOnTags: true,
      allowForks: false,
    });
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.error(system.tails());
  });

  after(async function () {
    this.timeout(60_000);
    await system?.close();
  });

  function expectAccepted(deliveries: Delivery[]) {
    expect(deliveries.map((d) => [d.eventKey, d.status])).to.satisfy((list: unknown[][]) =>
      list.every(([, status]) => status === 202),
    );
    accepted += deliveries.length;
  }

  /** Posts a body signed with the integration's secret, as a holder of that secret could. */
  async function sendSigned(eventKey: string, body: unknown): Promise<void> {
    const raw = JSON.stringify(body);
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json; charset=utf-8',
        'X-Event-Key': eventKey,
        'X-Request-Id': randomUUID(),
        'X-Hub-Signature': sign(secret, raw),
      },
      body: raw,
    });
    expect(res.status, `the gateway accepts the signed ${eventKey}`).to.equal(202);
    accepted += 1;
  }

  async function waitUntilHandled() {
    await waitFor(async () => (await system.eventsHandled()) >= accepted, {
      timeoutMs: 20_000,
      message: `the trigger workers did not handle all ${accepted} accepted events`,
    });
  }

  async function runsOn(commit: string, type?: Run['type']): Promise<Run[]> {
    return (await system.runsOf(stack.id)).filter(
      (r) => r.commit === commit && (type === undefined || r.type === type),
    );
  }

  const refused = () =>
    system.metricSum(system.triggers, /^stacklink_trigger_unconfirmed_total\{reason="refused"\}/);

  it('a legitimate push to main still starts its tracked run', async () => {
    const push = await system.sim.push({
      project: PROJECT,
      repo: REPO,
      branch: 'main',
      files: ['infra/vpc.tf'],
    });
    expectAccepted(push.deliveries);
    await waitFor(async () => (await runsOn(push.commit, 'tracked')).length === 1, {
      timeoutMs: 20_000,
      message: 'no tracked run for the push to main',
    });
  });

  it('a signed push claiming main moved to a commit of another repository starts nothing and is refused', async () => {
    const foreign = await system.sim.push({
      project: PROJECT,
      repo: 'other',
      branch: 'main',
      files: ['infra/evil.tf'],
    });
    const legit = await system.sim.push({
      project: PROJECT,
      repo: REPO,
      branch: 'main',
      files: ['README.md'],
    });
    expectAccepted(legit.deliveries);
    await waitUntilHandled();
    const before = await refused();
    const body = JSON.parse(legit.deliveries[0]!.body) as PushBody;
    body.changes[0]!.fromHash = legit.commit;
    body.changes[0]!.toHash = foreign.commit;
    await sendSigned('repo:refs_changed', body);
    await waitUntilHandled();
    expect(await runsOn(foreign.commit)).to.deep.equal([]);
    expect(await refused()).to.equal(before + 1);
  });

  it('a signed pull request from a fork that claims to come from the repository itself starts nothing', async () => {
    system.sim.addUser({ name: 'bob', token: 'bob-token-not-secret' });
    system.sim.addRepository({ project: '~BOB', slug: REPO, forkOf: { project: PROJECT, repo: REPO } });
    const pushed = await system.sim.push({
      project: '~BOB',
      repo: REPO,
      branch: 'fix',
      files: ['infra/x.tf'],
      actor: 'bob',
    });
    const opened = await system.sim.openPullRequest({
      project: PROJECT,
      repo: REPO,
      fromRepo: { project: '~BOB', repo: REPO },
      from: 'fix',
      to: 'main',
      author: 'bob',
    });
    expectAccepted(opened.deliveries);
    await waitUntilHandled();
    expect(await runsOn(pushed.commit), 'forks are not allowed on this stack').to.deep.equal([]);

    const body = JSON.parse(opened.deliveries[0]!.body) as PullRequestBody;
    body.pullRequest.fromRef.repository = body.pullRequest.toRef.repository;
    await sendSigned('pr:opened', body);
    await waitUntilHandled();
    expect(await runsOn(pushed.commit)).to.deep.equal([]);
  });

  it('a legitimate pull request still proposes its run, and a replayed old source update cancels nothing', async () => {
    const first = await system.sim.push({
      project: PROJECT,
      repo: REPO,
      branch: 'feature',
      files: ['infra/app.tf'],
    });
    expectAccepted(first.deliveries);
    const pr = await system.sim.openPullRequest({
      project: PROJECT,
      repo: REPO,
      from: 'feature',
      to: 'main',
    });
    expectAccepted(pr.deliveries);
    await waitUntilHandled();
    const second = await system.sim.updatePullRequestSource({
      project: PROJECT,
      repo: REPO,
      id: pr.id,
      files: ['infra/app2.tf'],
    });
    expectAccepted(second.deliveries);
    await waitUntilHandled();
    const third = await system.sim.updatePullRequestSource({
      project: PROJECT,
      repo: REPO,
      id: pr.id,
      files: ['infra/app3.tf'],
    });
    expectAccepted(third.deliveries);
    await waitUntilHandled();
    await waitFor(async () => (await runsOn(third.commit, 'proposed'))[0]?.state === 'QUEUED', {
      timeoutMs: 20_000,
      message: 'no queued proposed run for the newest commit of the pull request',
    });

    const old = second.deliveries.find((d) => d.eventKey === 'pr:from_ref_updated')!;
    await sendSigned('pr:from_ref_updated', JSON.parse(old.body));
    await waitUntilHandled();
    const [newest] = await runsOn(third.commit, 'proposed');
    expect(newest, 'the newest commit keeps its queued run').to.include({ state: 'QUEUED' });
    expect((await runsOn(second.commit, 'proposed')).map((r) => r.state)).to.deep.equal(['CANCELED']);
  });

  it('a tag on a commit that is not on the stack branch starts no tracked run', async () => {
    const side = await system.sim.push({
      project: PROJECT,
      repo: REPO,
      branch: 'side',
      files: ['infra/side.tf'],
    });
    expectAccepted(side.deliveries);
    const tagged = await system.sim.pushRefs({
      project: PROJECT,
      repo: REPO,
      changes: [{ tag: 'v-side', at: side.commit, annotated: true }],
    });
    expectAccepted(tagged.deliveries);
    await waitUntilHandled();
    expect(await runsOn(side.commit, 'tracked')).to.deep.equal([]);
  });

  it('an annotated tag on a commit of the stack branch still starts its tracked run, on the commit', async () => {
    expect(await runsOn(untriggered), 'no run before the tag').to.deep.equal([]);
    const tagged = await system.sim.pushRefs({
      project: PROJECT,
      repo: REPO,
      changes: [{ tag: 'v1', at: untriggered, annotated: true }],
    });
    expectAccepted(tagged.deliveries);
    await waitFor(async () => (await runsOn(untriggered, 'tracked')).length === 1, {
      timeoutMs: 20_000,
      message: 'no tracked run for the tag on main',
    });
  });

  it('a push delivered after a newer commit of main got its tracked run is recorded as superseded, not run', async () => {
    // The older push's delivery is held back (the webhook is off while it happens) and arrives late.
    const head = system.sim.state.requireRepository(PROJECT, REPO).refs.get('refs/heads/main')!;
    hook.active = false;
    const older = await system.sim.push({
      project: PROJECT,
      repo: REPO,
      branch: 'main',
      files: ['infra/one.tf'],
    });
    hook.active = true;
    expect(older.deliveries).to.deep.equal([]);
    const newer = await system.sim.push({
      project: PROJECT,
      repo: REPO,
      branch: 'main',
      files: ['infra/two.tf'],
    });
    expectAccepted(newer.deliveries);
    await waitFor(async () => (await runsOn(newer.commit, 'tracked')).length === 1, {
      timeoutMs: 20_000,
      message: 'no tracked run for the newer push',
    });
    const superseded = () =>
      system.metricSum(system.triggers, /^stacklink_trigger_unconfirmed_total\{reason="superseded"\}/);
    const before = await superseded();
    const late = JSON.parse(newer.deliveries[0]!.body) as PushBody;
    late.changes[0]!.fromHash = head;
    late.changes[0]!.toHash = older.commit;
    await sendSigned('repo:refs_changed', late);
    await waitUntilHandled();
    expect(await runsOn(older.commit)).to.deep.equal([]);
    expect(await superseded()).to.equal(before + 1);
  });
});
