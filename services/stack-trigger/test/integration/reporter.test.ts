import { expect } from 'chai';
import { startSimulator, type BitbucketSimulator } from '@stacklink/bitbucket-simulator';
import { waitFor } from '@stacklink/testing';
import { STATUS_UPDATES_QUEUE } from '@stacklink/contracts';
import { runMessage, startReporterHarness, type ReporterHarness } from '../support/reporter-harness';

const TOKEN = 'bitbucket-token-reporter';
const BUILDS = /\/commits\/[0-9a-f]+\/builds$/;

async function simulatorWithRepository(options: Parameters<typeof startSimulator>[0] = {}) {
  const sim = await startSimulator(options);
  sim.addUser({ name: 'stacklink', token: TOKEN, permission: 'admin' });
  sim.addRepository({ project: 'PRJ', slug: 'infra' });
  return sim;
}

async function newCommit(sim: BitbucketSimulator): Promise<string> {
  return (await sim.push({ project: 'PRJ', repo: 'infra', branch: 'main', files: ['net/main.tf'] })).commit;
}

const statusesOf = (sim: BitbucketSimulator, key: string, commit: string) =>
  sim.recorded.statuses.filter((s) => s.key === key && s.commit === commit);

/** Most requests the simulator received in any one-second window. */
function busiestSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= 1000) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

async function staleCount(h: ReporterHarness): Promise<number> {
  const text = await (await fetch(`${h.reporter.url}/metrics`)).text();
  return Number(/^stacklink_commit_status_updates_stale_total (\d+)/m.exec(text)?.[1] ?? 0);
}

describe('reporter worker against the Bitbucket simulator', function () {
  this.timeout(20_000);
  let sim: BitbucketSimulator;
  let legacy: BitbucketSimulator;
  let h: ReporterHarness;

  before(async () => {
    sim = await simulatorWithRepository();
    legacy = await simulatorWithRepository({ legacyBuildStatusOnly: true });
    h = await startReporterHarness({
      'int-1': { apiHost: sim.url, username: 'stacklink', accessToken: TOKEN },
      'int-old': { apiHost: legacy.url, username: 'stacklink', accessToken: TOKEN },
    });
  });

  after(async () => {
    await h?.close();
    await sim?.close();
    await legacy?.close();
  });

  afterEach(() => sim.clearFaults());

  it('when a run goes QUEUED → RUNNING → FINISHED, it posts INPROGRESS then SUCCESSFUL on its commit under its key', async () => {
    const commit = await newCommit(sim);
    const base = { commit, stack: { id: 'stk-flow', name: 'prod' } };
    const first = runMessage({ ...base, version: 1, state: 'QUEUED' });
    const run = { ...base, runId: first.runId };

    await h.publish(first);
    await waitFor(() => statusesOf(sim, 'stacklink/stk-flow', commit).length === 1);
    await h.publish(runMessage({ ...run, version: 2, state: 'RUNNING' }));
    await waitFor(() => statusesOf(sim, 'stacklink/stk-flow', commit).length === 2);
    await h.publish(runMessage({ ...run, version: 3, state: 'FINISHED' }));
    await waitFor(() => statusesOf(sim, 'stacklink/stk-flow', commit).length === 3);

    const posted = statusesOf(sim, 'stacklink/stk-flow', commit);
    expect(posted.map((s) => s.state)).to.deep.equal(['INPROGRESS', 'INPROGRESS', 'SUCCESSFUL']);
    expect(posted[2]).to.include({
      api: 'repository',
      projectKey: 'PRJ',
      slug: 'infra',
      name: 'prod (tracked)',
      url: `https://stacklink.example.com/ui/stacks/stk-flow/runs/${first.runId}`,
      description: 'Finished',
    });
  });

  it('when a run is canceled, it posts CANCELLED', async () => {
    const commit = await newCommit(sim);
    await h.publish(
      runMessage({ commit, version: 2, state: 'CANCELED', note: 'superseded', stack: { id: 'stk-cancel' } }),
    );

    const [posted] = await waitFor(() => {
      const found = statusesOf(sim, 'stacklink/stk-cancel', commit);
      return found.length > 0 ? found : undefined;
    });
    expect(posted).to.include({ state: 'CANCELLED', description: 'Canceled: superseded' });
  });

  it('on a server without the repository-scoped API, it posts through the legacy API, a canceled run as FAILED', async () => {
    const commit = await newCommit(legacy);
    const stack = { id: 'stk-old', name: 'old', integrationId: 'int-old' };
    const first = runMessage({ commit, version: 2, state: 'RUNNING', runType: 'proposed', stack });
    await h.publish(first);
    await waitFor(() => statusesOf(legacy, 'stacklink/stk-old', commit).length === 1);
    await h.publish(runMessage({ commit, runId: first.runId, version: 3, state: 'CANCELED', stack }));
    await waitFor(() => statusesOf(legacy, 'stacklink/stk-old', commit).length === 2);

    const posted = statusesOf(legacy, 'stacklink/stk-old', commit);
    expect(posted.map((s) => [s.api, s.state])).to.deep.equal([
      ['legacy', 'INPROGRESS'],
      ['legacy', 'FAILED'],
    ]);
    expect(posted[0]!.name).to.equal('old (proposed)');
  });

  it('when an older update arrives after FINISHED was posted, it drops it and the status stays SUCCESSFUL', async () => {
    const commit = await newCommit(sim);
    const finished = runMessage({ commit, version: 3, state: 'FINISHED', stack: { id: 'stk-stale' } });
    await h.publish(finished);
    await waitFor(() => statusesOf(sim, 'stacklink/stk-stale', commit).length === 1);
    const staleBefore = await staleCount(h);

    await h.publish({ ...finished, version: 2, state: 'RUNNING' });
    await waitFor(async () => (await staleCount(h)) === staleBefore + 1, {
      message: 'the late RUNNING update was not dropped',
    });

    expect(statusesOf(sim, 'stacklink/stk-stale', commit).map((s) => s.state)).to.deep.equal(['SUCCESSFUL']);
  });

  it('when two versions of a run are handled at the same time, the newer one is the last Bitbucket keeps', async () => {
    const commit = await newCommit(sim);
    const runs = Array.from({ length: 20 }, (_, i) =>
      runMessage({ commit, version: 2, state: 'RUNNING', stack: { id: `stk-race-${i}` } }),
    );

    await Promise.all(
      runs.flatMap((run, i) => {
        const newer = { ...run, version: 3, state: 'FINISHED' as const };
        return i % 2 === 0 ? [h.publish(run), h.publish(newer)] : [h.publish(newer), h.publish(run)];
      }),
    );

    await waitFor(
      () =>
        runs.every((run) =>
          statusesOf(sim, `stacklink/${run.stack.id}`, commit).some((s) => s.state === 'SUCCESSFUL'),
        ),
      { timeoutMs: 10_000, message: 'not every run got its SUCCESSFUL status' },
    );
    for (const run of runs) {
      const posted = statusesOf(sim, `stacklink/${run.stack.id}`, commit);
      expect(posted.at(-1)!.state, run.stack.id).to.equal('SUCCESSFUL');
    }
  });

  it('when Bitbucket answers 500 once, the update is retried through the bus and delivered', async () => {
    const commit = await newCommit(sim);
    sim.injectFaults({ status: 500, count: 1, path: BUILDS });
    await h.publish(runMessage({ commit, version: 4, state: 'FAILED', stack: { id: 'stk-5xx-once' } }));

    await waitFor(() => statusesOf(sim, 'stacklink/stk-5xx-once', commit).length === 1);
    const answers = sim.recorded.requests.filter((r) => BUILDS.test(r.path)).map((r) => r.status);
    expect(answers).to.include(500);
    expect(await h.bus.inspectDeadLetters(STATUS_UPDATES_QUEUE)).to.deep.equal([]);
  });

  it('when Bitbucket answers 500 beyond the retry budget, the update is dead-lettered, and a replay delivers it', async () => {
    const commit = await newCommit(sim);
    // The first try and both retries of the test topology fail.
    sim.injectFaults({ status: 503, count: 3, path: BUILDS });
    const update = runMessage({ commit, version: 3, state: 'FINISHED', stack: { id: 'stk-5xx' } });
    await h.publish(update);

    const [parked] = await waitFor(async () => {
      const found = await h.bus.inspectDeadLetters(STATUS_UPDATES_QUEUE);
      return found.length > 0 ? found : undefined;
    });
    expect(parked).to.include({
      messageId: `${update.runId}:3`,
      errorCode: 'BITBUCKET.SERVER_ERROR',
      attempts: 3,
    });
    expect(statusesOf(sim, 'stacklink/stk-5xx', commit)).to.deep.equal([]);

    expect(
      await h.bus.replayDeadLetters(STATUS_UPDATES_QUEUE, { messageIds: [`${update.runId}:3`] }),
    ).to.deep.equal({
      replayed: 1,
    });

    await waitFor(() => statusesOf(sim, 'stacklink/stk-5xx', commit).length === 1);
    expect(statusesOf(sim, 'stacklink/stk-5xx', commit)[0]!.state).to.equal('SUCCESSFUL');
    expect(await h.bus.inspectDeadLetters(STATUS_UPDATES_QUEUE)).to.deep.equal([]);
  });
});

describe('reporter worker under Bitbucket rate limits', function () {
  this.timeout(30_000);
  let sim: BitbucketSimulator | undefined;
  let h: ReporterHarness | undefined;

  afterEach(async () => {
    await h?.close();
    await sim?.close();
  });

  async function fanOut(count: number, commit: string) {
    const runs = Array.from({ length: count }, (_, i) =>
      runMessage({ commit, version: 3, state: 'FINISHED', stack: { id: `stk-fan-${i}` } }),
    );
    await Promise.all(runs.map((run) => h!.publish(run)));
    await waitFor(
      () => runs.every((run) => statusesOf(sim!, `stacklink/${run.stack.id}`, commit).length > 0),
      {
        timeoutMs: 20_000,
        message: 'not every final status was delivered',
      },
    );
    return runs;
  }

  it('in a 429 storm, every final status is delivered, none is lost, and the configured rate is never exceeded', async () => {
    // Bitbucket allows 10/s, the reporter is (mis)configured for 20/s: Bitbucket answers 429 often.
    sim = await simulatorWithRepository({ rateLimit: { perSecond: 10, burst: 5 } });
    h = await startReporterHarness(
      { 'int-1': { apiHost: sim.url, username: 'stacklink', accessToken: TOKEN } },
      { REPORTER_RATE_PER_SECOND: '20', REPORTER_RATE_BURST: '5' },
    );
    const commit = await newCommit(sim);

    await fanOut(40, commit);

    const requests = sim.recorded.requests;
    expect(requests.filter((r) => r.status === 429)).to.not.be.empty;
    expect(busiestSecond(requests.map((r) => r.at))).to.be.at.most(20 + 5);
    expect(sim.recorded.statuses.filter((s) => s.commit === commit)).to.have.length(40);
    expect(await h.bus.inspectDeadLetters(STATUS_UPDATES_QUEUE)).to.deep.equal([]);
  });

  it("configured below Bitbucket's limit, a fan-out never meets a 429", async () => {
    sim = await simulatorWithRepository({ rateLimit: { perSecond: 20, burst: 5 } });
    h = await startReporterHarness(
      { 'int-1': { apiHost: sim.url, username: 'stacklink', accessToken: TOKEN } },
      {
        REPORTER_RATE_PER_SECOND: '100',
        REPORTER_RATE_LIMITS: JSON.stringify({ 'int-1': { perSecond: 20, burst: 1 } }),
      },
    );
    const commit = await newCommit(sim);

    await fanOut(30, commit);

    expect(sim.recorded.requests.filter((r) => r.status === 429)).to.deep.equal([]);
    // The reporter takes tokens at 20/s (burst 1); on a busy machine requests sent a few ms apart can
    // arrive bunched, so what arrives is held to Bitbucket's own allowance (20/s, burst 5), which the
    // fan-out (30 statuses and their reports at once) would overrun many times without the limit.
    expect(busiestSecond(sim.recorded.requests.map((r) => r.at))).to.be.at.most(20 + 5);
  });
});
