import { setTimeout as scenarioPause } from 'node:timers/promises';
import { expect } from 'chai';
import { WEBHOOK_EVENTS, type Delivery } from '@stacklink/bitbucket-simulator';
import { waitFor } from '@stacklink/testing';
import { System, type Run, type Stack } from '../support/system';

const PROJECT = 'PRJ';
const REPO = 'infra';

/**
 * The stack-trigger queues' schedule unit (RETRY_TIME_UNIT_MS, services/stack-trigger/README.md):
 * 1, 5, 30 and 120 units, so today's whole retry schedule takes 156 units = 3.1 s here.
 */
const UNIT_MS = 20;
const SCHEDULE_MS = 156 * UNIT_MS;
const PROBE_MIN_MS = 300;
const PROBE_MAX_MS = 1500;
const THRESHOLD = 3;
/** Half the outage answers 503 (a node in maintenance), the other half refuses connections. */
const OUTAGE_MS = 5 * SCHEDULE_MS;
const ACTIONS = 50;
/** What handling the 50 held events and creating their runs may take once they are let through. */
const HANDLING_MS = 1500;

const FINAL: Record<Run['state'], string> = {
  QUEUED: 'INPROGRESS',
  RUNNING: 'INPROGRESS',
  FINISHED: 'SUCCESSFUL',
  FAILED: 'FAILED',
  CANCELED: 'CANCELLED',
};

/**
 * Bitbucket goes down for longer than the whole retry schedule several times while pushes and
 * pull-request updates keep arriving (docs/architecture.md §9): nothing is dead-lettered, Bitbucket sees
 * only the breaker's probes, and once it is back every run exists once with its latest state posted.
 */
describe('end to end: a Bitbucket outage longer than the retry schedule', function () {
  this.timeout(90_000);
  let system: System;
  let stack: Stack;
  let integrationId: string;
  let pullRequestId: number;
  const mainCommits: string[] = [];
  let lastPullRequestCommit = '';
  let outageRequests = 0;
  let recoveredAt = 0;

  const outageEnv = {
    RETRY_TIME_UNIT_MS: String(UNIT_MS),
    BITBUCKET_FAILURE_THRESHOLD: String(THRESHOLD),
    BITBUCKET_PROBE_MIN_MS: String(PROBE_MIN_MS),
    BITBUCKET_PROBE_MAX_MS: String(PROBE_MAX_MS),
  };

  before(async function () {
    this.timeout(60_000);
    system = await System.start({ label: 'outage', env: { trigger: outageEnv, reporter: outageEnv } });
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.error(system.tails(25));
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
  }

  const deadLetters = async () => {
    const depths = await system.queueDepths();
    return Object.entries(depths)
      .filter(([name]) => name.endsWith('.dlq'))
      .reduce((sum, [, n]) => sum + n, 0);
  };

  const hostState = async (state: string) =>
    system.metricSum(
      [...system.triggers, ...system.reporters],
      new RegExp(`^stacklink_bitbucket_host_state\\{host="[^"]+",state="${state}"\\}`),
    );

  it('sets up an integration, a repository with its webhook and a stack tracking main, and runs one push', async () => {
    const created = await system.createIntegration();
    integrationId = created.id;
    system.sim.addRepository({ project: PROJECT, slug: REPO, files: ['README.md', 'infra/main.tf'] });
    system.sim.addWebhook({
      project: PROJECT,
      repo: REPO,
      url: created.webhook.endpoint,
      secret: created.webhook.secret,
      events: [...WEBHOOK_EVENTS],
      name: 'stacklink',
    });
    stack = await system.createStack({
      integrationId,
      repository: { projectKey: PROJECT, slug: REPO },
      branch: 'main',
      name: 'network',
      projectRoot: 'infra/',
    });
    const push = await system.sim.push({
      project: PROJECT,
      repo: REPO,
      branch: 'main',
      files: ['infra/a.tf'],
    });
    expectAccepted(push.deliveries);
    mainCommits.push(push.commit);
    await waitFor(() => system.statusesOf(stack.id).get(push.commit)?.at(-1)?.state === 'SUCCESSFUL', {
      timeoutMs: 20_000,
      message: 'the push before the outage did not get its SUCCESSFUL status',
    });
    const feature = await system.sim.push({
      project: PROJECT,
      repo: REPO,
      branch: 'feature',
      files: ['infra/feature.tf'],
    });
    expectAccepted(feature.deliveries);
  });

  it('takes pushes and pull-request updates during the outage without a dead letter, Bitbucket seeing only probes, /readyz green', async () => {
    const startedAt = Date.now();
    const requestsBefore = system.sim.recorded.requests.length;
    await system.sim.setOutage('unavailable');
    let refused = false;
    for (let i = 0; i < ACTIONS; i++) {
      if (!refused && Date.now() - startedAt >= OUTAGE_MS / 2) {
        outageRequests = system.sim.recorded.requests.length - requestsBefore;
        await system.sim.setOutage('refused');
        refused = true;
      }
      if (i === 0) {
        const pr = await system.sim.openPullRequest({
          project: PROJECT,
          repo: REPO,
          from: 'feature',
          to: 'main',
        });
        expectAccepted(pr.deliveries);
        pullRequestId = pr.id;
      } else if (i % 2 === 0) {
        const update = await system.sim.updatePullRequestSource({
          project: PROJECT,
          repo: REPO,
          id: pullRequestId,
          files: [`infra/feature-${i}.tf`],
        });
        expectAccepted(update.deliveries);
        lastPullRequestCommit = update.commit;
      } else {
        const push = await system.sim.push({
          project: PROJECT,
          repo: REPO,
          branch: 'main',
          files: [`infra/main-${i}.tf`],
        });
        expectAccepted(push.deliveries);
        mainCommits.push(push.commit);
      }
      // Spread over the first part of the outage, as webhooks arrive over time.
      await scenarioPause(OUTAGE_MS / 2 / ACTIONS);
    }
    if (!refused) {
      await scenarioPause(Math.max(0, startedAt + OUTAGE_MS / 2 - Date.now()));
      outageRequests = system.sim.recorded.requests.length - requestsBefore;
      await system.sim.setOutage('refused');
    }

    expect(await hostState('up'), 'every trigger and reporter that called Bitbucket sees it down').to.equal(
      0,
    );
    for (const p of [...system.triggers, ...system.reporters]) {
      expect((await fetch(`${p.url}/readyz`)).status, `${p.name} /readyz`).to.equal(200);
    }
    // The outage lasts its whole length: what is under test is what happens meanwhile.
    await scenarioPause(Math.max(0, startedAt + OUTAGE_MS - Date.now()));
    // Node's timers may fire a millisecond before Date.now() says the delay passed: allow 5 ms.
    expect(Date.now() - startedAt).to.be.at.least(OUTAGE_MS - 5);
    expect(await deadLetters(), 'dead letters during the outage').to.equal(0);

    // Without the breaker every event made 3 quick tries on each of its 5 deliveries. With it: the
    // calls until THRESHOLD failures were seen, then at most one probe per pause (at least PROBE_MIN_MS).
    const probeBound = THRESHOLD + 2 + Math.ceil(OUTAGE_MS / 2 / PROBE_MIN_MS);
    console.log(
      `      Bitbucket saw ${outageRequests} requests in ${OUTAGE_MS / 2} ms of 503 (bound ${probeBound})`,
    );
    expect(outageRequests).to.be.at.most(probeBound);
    expect(
      system.sim.recorded.requests
        .slice(requestsBefore, requestsBefore + outageRequests)
        .every((r) => r.status === 503),
    ).to.equal(true);
    expect(await system.runsOf(stack.id), 'no run could be created without the changed files').to.have.length(
      1,
    );
  });

  it('once Bitbucket is back, within one probe interval (plus handling time) every run exists exactly once and Bitbucket holds its latest state', async () => {
    await system.sim.setOutage(undefined);
    recoveredAt = Date.now();
    const runs = await waitFor(
      async () => {
        const all = await system.runsOf(stack.id);
        const tracked = all.filter((r) => r.type === 'tracked');
        const proposed = all.filter((r) => r.type === 'proposed' && r.commit === lastPullRequestCommit);
        // A push handled after a newer commit's tracked run exists is superseded, not run (§12): the
        // newest push is what must run; an older one may be missing only behind a newer tracked run.
        const newest = mainCommits.at(-1)!;
        return tracked.some((r) => r.commit === newest) && proposed.length > 0 ? all : undefined;
      },
      {
        timeoutMs: PROBE_MAX_MS + 10_000,
        intervalMs: 100,
        message: 'not every run was created after the outage',
      },
    );
    const createdWithin = Date.now() - recoveredAt;
    console.log(
      `      every run existed ${createdWithin} ms after Bitbucket came back (probe interval ≤ ${PROBE_MAX_MS} ms)`,
    );
    // One probe interval for the breaker to notice, plus the time 50 events take to be handled.
    expect(createdWithin).to.be.at.most(PROBE_MAX_MS + HANDLING_MS);

    const byCommitAndType = new Map<string, number>();
    for (const r of runs)
      byCommitAndType.set(`${r.type} ${r.commit}`, (byCommitAndType.get(`${r.type} ${r.commit}`) ?? 0) + 1);
    expect(
      [...byCommitAndType.entries()].filter(([, n]) => n > 1),
      'runs created twice',
    ).to.deep.equal([]);
    const trackedCommits = runs.filter((r) => r.type === 'tracked').map((r) => r.commit);
    expect(
      trackedCommits.filter((c) => !mainCommits.includes(c)),
      'tracked runs of unknown commits',
    ).to.be.empty;
    const rank = (c: string) => mainCommits.indexOf(c);
    const missing = mainCommits.filter((c) => !trackedCommits.includes(c));
    expect(
      missing.filter((c) => !trackedCommits.some((t) => rank(t) > rank(c))),
      'pushes without a tracked run and without a newer one that superseded them',
    ).to.deep.equal([]);
    console.log(
      `      ${trackedCommits.length} tracked runs, ${missing.length} pushes superseded by a newer one`,
    );

    // How far the held events came back out of push order (each waited on its own delay queue): tracked
    // runs are handed out in creation order, as they are after ordinary retries. Measured, reported.
    const trackedBySequence = runs
      .filter((r) => r.type === 'tracked')
      .sort((a, b) => a.sequence - b.sequence)
      .map((r) => r.commit);
    const ranks = trackedBySequence.map((c) => mainCommits.indexOf(c));
    const descents = ranks.filter((r, i) => i > 0 && r < ranks[i - 1]!).length;
    console.log(
      `      tracked runs in creation order, by push index: ${ranks.join(' ')} (${descents} descents)`,
    );

    const settled = await waitFor(
      async () => {
        const all = await system.runsOf(stack.id);
        if (!all.every((r) => ['FINISHED', 'FAILED', 'CANCELED'].includes(r.state))) return undefined;
        const statuses = system.statusesOf(stack.id);
        return all.every((r) => statuses.get(r.commit)?.at(-1)?.state === FINAL[r.state]) ? all : undefined;
      },
      {
        timeoutMs: 30_000,
        intervalMs: 250,
        message: 'the latest state of every run did not reach Bitbucket',
      },
    );
    expect(settled.length).to.be.at.least(mainCommits.length + 1);
    expect(await deadLetters(), 'dead letters after the outage').to.equal(0);
    expect(await hostState('down')).to.equal(0);
  });
});
