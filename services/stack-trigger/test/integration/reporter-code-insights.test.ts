import { expect } from 'chai';
import Redis from 'ioredis';
import { startSimulator, type BitbucketSimulator } from '@stacklink/bitbucket-simulator';
import { REDIS_URL, waitFor } from '@stacklink/testing';
import { runMessage, startReporterHarness, type ReporterHarness } from '../support/reporter-harness';

const TOKEN = 'bitbucket-token-insights';
const SUMMARY = {
  add: 3,
  change: 1,
  destroy: 0,
  summary: 'Plan: 3 to add, 1 to change, 0 to destroy.',
  annotations: [
    { path: 'net/main.tf', line: 4, severity: 'HIGH' as const, message: 'open security group' },
    {
      path: 'net/vars.tf',
      severity: 'LOW' as const,
      message: 'unused variable',
      link: 'https://policy.example/1',
    },
  ],
};

async function simulatorWithRepository(options: Parameters<typeof startSimulator>[0] = {}) {
  const sim = await startSimulator(options);
  sim.addUser({ name: 'stacklink', token: TOKEN, permission: 'admin' });
  sim.addRepository({ project: 'PRJ', slug: 'infra' });
  return sim;
}

async function newCommit(sim: BitbucketSimulator): Promise<string> {
  return (await sim.push({ project: 'PRJ', repo: 'infra', branch: 'main', files: ['net/main.tf'] })).commit;
}

const insightCalls = (sim: BitbucketSimulator) =>
  sim.recorded.requests.filter((r) => r.path.startsWith('/rest/insights/'));

const reportOf = (sim: BitbucketSimulator, commit: string, stackId: string) =>
  sim.insightReport({ project: 'PRJ', repo: 'infra', commit, key: `stacklink-${stackId}` });

describe('reporter worker: Code Insights reports (docs/architecture.md §8)', function () {
  this.timeout(20_000);
  let sim: BitbucketSimulator;
  let bare: BitbucketSimulator;
  let h: ReporterHarness;
  let redis: Redis;

  before(async () => {
    sim = await simulatorWithRepository();
    bare = await simulatorWithRepository({ codeInsights: false });
    h = await startReporterHarness(
      {
        'int-1': { apiHost: sim.url, username: 'stacklink', accessToken: TOKEN },
        'int-bare': { apiHost: bare.url, username: 'stacklink', accessToken: TOKEN },
      },
      { CODE_INSIGHTS_RECHECK_SECONDS: '120' },
    );
    redis = new Redis(REDIS_URL);
  });

  after(async () => {
    await h?.close();
    await sim?.close();
    await bare?.close();
    redis?.disconnect();
  });

  afterEach(() => sim.clearFaults());

  it('while a run runs the report has no verdict; once FINISHED it is PASS with the counts, the run link and the annotations', async () => {
    const commit = await newCommit(sim);
    const stack = { id: 'stk-ins', name: 'network' };
    const running = runMessage({
      commit,
      version: 2,
      state: 'RUNNING',
      stack,
      startedAt: new Date().toISOString(),
    });
    await h.publish(running);
    const first = await waitFor(() => reportOf(sim, commit, 'stk-ins'));
    expect(first.result).to.equal(undefined);
    expect(first.title).to.equal('network (tracked)');

    const occurredAt = new Date().toISOString();
    const startedAt = new Date(Date.parse(occurredAt) - 65_000).toISOString();
    await h.publish({ ...running, version: 3, state: 'FINISHED', startedAt, occurredAt, summary: SUMMARY });
    const done = await waitFor(() => {
      const r = reportOf(sim, commit, 'stk-ins');
      return r?.result === 'PASS' && r.annotations.length === 2 ? r : undefined;
    });
    expect(done.link).to.equal(`https://stacklink.example.com/ui/stacks/stk-ins/runs/${running.runId}`);
    expect(done.details).to.equal(SUMMARY.summary);
    const data = Object.fromEntries(done.data.map((d) => [d.title, d.value]));
    expect(data).to.include({
      'Run type': 'tracked',
      State: 'Finished',
      'To add': 3,
      'To change': 1,
      'To destroy': 0,
    });
    // From RUNNING to the final state's announcement.
    expect(data.Duration).to.equal(65_000);
    expect(done.annotations.map((a) => [a.path, a.line, a.severity, a.message, a.link])).to.deep.equal([
      ['net/main.tf', 4, 'HIGH', 'open security group', undefined],
      ['net/vars.tf', 0, 'LOW', 'unused variable', 'https://policy.example/1'],
    ]);
  });

  it('when an older RUNNING update arrives after FAILED was reported, the FAIL report stays', async () => {
    const commit = await newCommit(sim);
    const failed = runMessage({ commit, version: 3, state: 'FAILED', stack: { id: 'stk-late' } });
    await h.publish(failed);
    await waitFor(() => reportOf(sim, commit, 'stk-late')?.result === 'FAIL');
    const writes = reportOf(sim, commit, 'stk-late')!.writes;

    await h.publish({ ...failed, version: 2, state: 'RUNNING' });
    await h.publish({ ...failed, version: 4, state: 'FAILED', note: 'announced again' });
    await waitFor(() => reportOf(sim, commit, 'stk-late')!.details?.includes('announced again'));
    // The late RUNNING update wrote nothing: only version 4 came after version 3.
    expect(reportOf(sim, commit, 'stk-late')!.writes).to.equal(writes + 1);
    expect(reportOf(sim, commit, 'stk-late')!.result).to.equal('FAIL');
  });

  it('when Bitbucket answers 500 to the report once, the update is retried through the bus and the report arrives', async () => {
    const commit = await newCommit(sim);
    sim.injectFaults({ status: 500, path: '/rest/insights/', method: 'PUT', count: 1 });
    await h.publish(
      runMessage({ commit, version: 3, state: 'FINISHED', stack: { id: 'stk-500' }, summary: SUMMARY }),
    );
    const report = await waitFor(() => {
      const r = reportOf(sim, commit, 'stk-500');
      return r?.annotations.length === 2 ? r : undefined;
    });
    expect(report.result).to.equal('PASS');
    const puts = insightCalls(sim).filter((r) => r.method === 'PUT' && r.path.includes(commit));
    expect(puts.map((r) => r.status)).to.deep.equal([500, 200]);
  });

  it('on a server without Code Insights it posts statuses only, after one probe kept in Redis', async () => {
    const unsupportedCount = async () => {
      const text = await (await fetch(`${h.reporter.url}/metrics`)).text();
      return Number(
        /^stacklink_code_insights_reports_total\{outcome="unsupported"\} (\d+)$/m.exec(text)?.[1] ?? 0,
      );
    };
    const unsupportedBefore = await unsupportedCount();
    const commits = [await newCommit(bare), await newCommit(bare)];
    const messages = commits.map((commit, i) =>
      runMessage({
        commit,
        version: 3,
        state: 'FINISHED',
        summary: SUMMARY,
        stack: { id: `stk-bare-${i}`, integrationId: 'int-bare' },
      }),
    );
    await Promise.all(messages.map((m) => h.publish(m)));
    // Each update is done (status and report step) once the ledger records its version as posted.
    await waitFor(async () => {
      const posted = await Promise.all(
        messages.map((m) => redis.get(`${h.namespace}:stack-trigger:reporter:run:${m.runId}`)),
      );
      return posted.every((v) => v === '3');
    });
    expect(bare.recorded.statuses.filter((s) => s.state === 'SUCCESSFUL')).to.have.length(2);
    expect(insightCalls(bare).map((r) => [r.method, r.status])).to.deep.equal([['PUT', 404]]);
    // The registry is the process's: other suites in this process may have counted before.
    expect((await unsupportedCount()) - unsupportedBefore).to.equal(2);
    const key = `${h.namespace}:stack-trigger:insights:${new URL(bare.url).origin}`;
    expect(await redis.get(key)).to.equal('absent');
    expect(await redis.ttl(key)).to.be.within(1, 120);
  });
});

describe('reporter worker with CODE_INSIGHTS_ENABLED=false', function () {
  this.timeout(20_000);

  it('posts the commit status and no report', async () => {
    const sim = await simulatorWithRepository();
    const h = await startReporterHarness(
      { 'int-1': { apiHost: sim.url, username: 'stacklink', accessToken: TOKEN } },
      { CODE_INSIGHTS_ENABLED: 'false' },
    );
    try {
      const commit = await newCommit(sim);
      await h.publish(runMessage({ commit, version: 3, state: 'FINISHED', summary: SUMMARY }));
      await waitFor(() => sim.recorded.statuses.some((s) => s.commit === commit));
      expect(insightCalls(sim)).to.deep.equal([]);
    } finally {
      await h.close();
      await sim.close();
    }
  });
});
