import { expect } from 'chai';
import { WEBHOOK_EVENTS, type Delivery } from '@stacklink/bitbucket-simulator';
import { waitFor } from '@stacklink/testing';
import { System, type Run, type Stack } from '../support/system';

const PROJECT = 'PRJ';
const REPO = 'infra';

/**
 * The scripted newcomer scenario across every role as its own OS process (docs/architecture.md §1, §7, §8):
 * two gateways behind a round-robin balancer, two trigger workers, two reporters, the API, the integration
 * service and the runner, with the Bitbucket simulator as Bitbucket. The runner starts only after the
 * pull request got its second commit, so the superseded proposed run is certainly still queued when
 * the new commit arrives and the cancel is deterministic.
 */
describe('end to end: push, pull request, new commit, runner, decline', function () {
  this.timeout(60_000);
  let system: System;
  let integrationId: string;
  let tracked: Stack;
  let other: Stack;
  let pullRequestId: number;
  const commits: { main?: string; first?: string; second?: string } = {};
  let accepted = 0;

  before(async function () {
    this.timeout(90_000);
    system = await System.start({ label: 'scenario', startRunner: false });
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.error(system.tails());
  });

  after(async function () {
    this.timeout(60_000);
    await system?.close();
  });

  function expectAccepted(deliveries: Delivery[]) {
    expect(
      deliveries.map((d) => [d.eventKey, d.status, d.error]),
      'every delivery answered 202',
    ).to.satisfy((list: unknown[][]) => list.every(([, status]) => status === 202));
    accepted += deliveries.length;
  }

  async function waitUntilHandled() {
    await waitFor(async () => (await system.eventsHandled()) >= accepted, {
      timeoutMs: 20_000,
      message: `the trigger workers did not handle all ${accepted} accepted events`,
    });
  }

  async function runOf(stackId: string, commit: string, type: Run['type']): Promise<Run | undefined> {
    return (await system.runsOf(stackId)).find((r) => r.commit === commit && r.type === type);
  }

  it('creates an integration whose webhook endpoint is the gateways behind the load balancer', async () => {
    const created = await system.createIntegration();
    integrationId = created.id;
    expect(created.webhook.endpoint).to.equal(`${system.forwarder.url}/webhooks/bitbucket-dc/${created.id}`);
    expect(created.webhook.secret).to.match(/^[0-9a-f]{64}$/);
    system.sim.addRepository({
      project: PROJECT,
      slug: REPO,
      files: ['README.md', 'infra/main.tf', 'modules/db/main.tf'],
    });
    // What an admin does in Bitbucket: a repository webhook with the endpoint and the secret.
    system.sim.addWebhook({
      project: PROJECT,
      repo: REPO,
      url: created.webhook.endpoint,
      secret: created.webhook.secret,
      events: [...WEBHOOK_EVENTS],
      name: 'stacklink',
    });
  });

  it('creates a stack tracking main under infra/ and a second stack on another root', async () => {
    const base = { integrationId, repository: { projectKey: PROJECT, slug: REPO }, branch: 'main' };
    tracked = await system.createStack({ ...base, name: 'network', projectRoot: 'infra/' });
    other = await system.createStack({ ...base, name: 'database', projectRoot: 'modules/' });
    expect(tracked.id).to.be.a('string');
    expect(other.id).to.not.equal(tracked.id);
  });

  it('a push to main touching infra/ queues one tracked run on that stack only', async () => {
    const push = await system.sim.push({
      project: PROJECT,
      repo: REPO,
      branch: 'main',
      files: ['infra/vpc.tf'],
    });
    expectAccepted(push.deliveries);
    commits.main = push.commit;
    const run = await waitFor(() => runOf(tracked.id, push.commit, 'tracked'), {
      timeoutMs: 20_000,
      message: 'no tracked run for the push to main',
    });
    expect(run).to.include({ state: 'QUEUED', ref: 'refs/heads/main' });
    await waitUntilHandled();
    expect(await system.runsOf(other.id), 'the stack on modules/ is untouched').to.deep.equal([]);
  });

  it('a pull request from feature to main proposes one run on its source commit', async () => {
    const push = await system.sim.push({
      project: PROJECT,
      repo: REPO,
      branch: 'feature',
      files: ['infra/app.tf'],
    });
    expectAccepted(push.deliveries);
    commits.first = push.commit;
    const pr = await system.sim.openPullRequest({
      project: PROJECT,
      repo: REPO,
      from: 'feature',
      to: 'main',
    });
    expectAccepted(pr.deliveries);
    pullRequestId = pr.id;
    await waitUntilHandled();
    const runs = (await system.runsOf(tracked.id)).filter((r) => r.commit === push.commit);
    // The push to feature and the pull request name the same commit: one run (docs/architecture.md §7), and
    // it belongs to the pull request whichever event created it.
    expect(runs.map((r) => [r.type, r.state, r.pullRequest?.id])).to.deep.equal([
      ['proposed', 'QUEUED', pr.id],
    ]);
    await waitFor(() => system.statusesOf(tracked.id).get(push.commit)?.length === 1, {
      timeoutMs: 15_000,
      message: 'no INPROGRESS status for the queued proposed run',
    });
  });

  it('a new commit on the pull request cancels the proposed run of the old commit, still queued', async () => {
    const update = await system.sim.updatePullRequestSource({
      project: PROJECT,
      repo: REPO,
      id: pullRequestId,
      files: ['infra/app.tf'],
    });
    expectAccepted(update.deliveries);
    commits.second = update.commit;
    await waitUntilHandled();
    const old = await waitFor(
      async () => {
        const run = await runOf(tracked.id, commits.first!, 'proposed');
        return run?.state === 'CANCELED' ? run : undefined;
      },
      { timeoutMs: 15_000, message: 'the superseded proposed run was not canceled' },
    );
    expect(old.note).to.equal(`superseded by commit ${update.commit}`);
    const fresh = await runOf(tracked.id, update.commit, 'proposed');
    expect(fresh).to.include({ state: 'QUEUED' });
    expect(fresh?.pullRequest?.id).to.equal(pullRequestId);
    // Its queued status first, so the runner's later states cannot overtake it (docs/architecture.md §8).
    await waitFor(() => system.statusesOf(tracked.id).get(update.commit)?.length === 1, {
      timeoutMs: 15_000,
      message: 'no INPROGRESS status for the new proposed run',
    });
  });

  it('once a runner runs, the tracked run and the new proposed run finish', async () => {
    await system.startRunner();
    const runs = await system.waitForRuns(
      [tracked.id],
      (all) => all.length === 3 && all.every((r) => r.state !== 'QUEUED' && r.state !== 'RUNNING'),
      { timeoutMs: 30_000, message: 'the runner did not finish the queued runs' },
    );
    const byCommit = Object.fromEntries(runs.get(tracked.id)!.map((r) => [r.commit, [r.type, r.state]]));
    expect(byCommit).to.deep.equal({
      [commits.main!]: ['tracked', 'FINISHED'],
      [commits.first!]: ['proposed', 'CANCELED'],
      [commits.second!]: ['proposed', 'FINISHED'],
    });
  });

  it('declining the pull request leaves the finished runs as they are', async () => {
    const declined = await system.sim.declinePullRequest({ project: PROJECT, repo: REPO, id: pullRequestId });
    expectAccepted(declined.deliveries);
    await waitUntilHandled();
    const runs = await system.runsOf(tracked.id);
    expect(runs.map((r) => r.state).sort()).to.deep.equal(['CANCELED', 'FINISHED', 'FINISHED']);
    expect(await system.runsOf(other.id)).to.deep.equal([]);
  });

  it('Bitbucket holds INPROGRESS then the final status of every run, under the stack key, and nothing else', async () => {
    const finals = {
      [commits.main!]: 'SUCCESSFUL',
      [commits.first!]: 'CANCELLED',
      [commits.second!]: 'SUCCESSFUL',
    };
    const statuses = await waitFor(
      () => {
        const byCommit = system.statusesOf(tracked.id);
        const done = Object.entries(finals).every(([c, state]) => byCommit.get(c)?.at(-1)?.state === state);
        return done ? byCommit : undefined;
      },
      { timeoutMs: 20_000, message: 'the final commit statuses did not all arrive' },
    );
    expect([...statuses.keys()].sort()).to.deep.equal(Object.keys(finals).sort());
    const runs = await system.runsOf(tracked.id);
    for (const [commit, final] of Object.entries(finals)) {
      const list = statuses.get(commit)!;
      const run = runs.find((r) => r.commit === commit)!;
      // Only the latest state is posted (docs/architecture.md §8): INPROGRESS (queued, running), then
      // one final state.
      expect(list[0]!.state, `first status of ${commit}`).to.equal('INPROGRESS');
      expect(list.slice(0, -1).every((s) => s.state === 'INPROGRESS')).to.equal(true);
      expect(list.filter((s) => s.state === final)).to.have.length(1);
      expect(list.length).to.be.within(2, 3);
      for (const s of list) {
        expect(s).to.include({ projectKey: PROJECT, slug: REPO, api: 'repository' });
        expect(s.name).to.equal(`network (${run.type})`);
        expect(s.url).to.equal(`${system.api.url}/stacks/${tracked.id}/runs/${run.id}`);
      }
    }
    expect(statuses.get(commits.first!)!.map((s) => s.state)).to.deep.equal(['INPROGRESS', 'CANCELLED']);
    expect(system.statusesOf(other.id).size, 'no status for the untouched stack').to.equal(0);
    expect(system.sim.recorded.statuses.every((s) => s.key === `stacklink/${tracked.id}`)).to.equal(true);
  });
});
