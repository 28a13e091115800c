import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { WEBHOOK_EVENTS } from '@stacklink/bitbucket-simulator';
import { waitFor } from '@stacklink/testing';
import { SIM_TOKEN, System, type Run, type Stack } from '../support/system';

const PROJECT = 'INS';
const REPO = 'infra';
const FILES = ['infra/main.tf', 'infra/network.tf', 'infra/outputs.tf'];

/** A `terraform show -json` plan: one create, one update, one replacement (= 2 to add, 1 to change, 1 to destroy). */
const PLAN = {
  format_version: '1.2',
  resource_changes: [
    { address: 'aws_vpc.main', change: { actions: ['create'] } },
    { address: 'aws_subnet.a', change: { actions: ['update'] } },
    { address: 'aws_instance.web', change: { actions: ['delete', 'create'] } },
    { address: 'aws_s3_bucket.logs', change: { actions: ['no-op'] } },
  ],
};

/**
 * Issue 24 end to end: every role as its own process, the reference runner's command writes a plan and
 * three findings (tagged with the run type, so a second run's set is told from the first's), and the
 * reporter fills Bitbucket's Code Insights from them (docs/architecture.md §8). Flag files hold the
 * command (its run stays RUNNING) or make it fail.
 */
describe('end to end: Code Insights reports and annotations', function () {
  this.timeout(90_000);
  let system: System;
  let stack: Stack;
  let commit: string;
  let holdFlag: string;
  let failFlag: string;

  before(async function () {
    this.timeout(90_000);
    const plan = path.join(tmpdir(), `stacklink-plan-${process.pid}-${Date.now()}.json`);
    const findings = `${plan}.annotations`;
    holdFlag = `${plan}.hold`;
    failFlag = `${plan}.fail`;
    writeFileSync(plan, JSON.stringify(PLAN));
    writeFileSync(
      findings,
      JSON.stringify(
        FILES.map((file, i) => ({
          path: file,
          line: i + 1,
          severity: i === 0 ? 'HIGH' : 'LOW',
          message: `RUNTYPE finding ${i + 1}`,
        })),
      ),
    );
    system = await System.start({
      label: 'insights',
      gateways: 1,
      triggers: 1,
      reporters: 2,
      runnerCommand: [
        `cp '${plan}' "$STACKLINK_PLAN_JSON"`,
        `sed "s/RUNTYPE/$STACKLINK_RUN_TYPE/g" '${findings}' > "$STACKLINK_ANNOTATIONS_JSON"`,
        // A test holds the command (the run stays RUNNING) or makes it fail with these flag files.
        `while [ -e '${holdFlag}' ]; do sleep 0.1; done`,
        `test ! -e '${failFlag}'`,
      ].join(' && '),
      env: { reporter: { CODE_INSIGHTS_RECHECK_SECONDS: '600' } },
    });
    const integration = await system.createIntegration();
    system.sim.addRepository({ project: PROJECT, slug: REPO, files: ['README.md', ...FILES] });
    system.sim.addWebhook({
      project: PROJECT,
      repo: REPO,
      url: integration.webhook.endpoint,
      secret: integration.webhook.secret,
      events: [...WEBHOOK_EVENTS],
      name: 'stacklink',
    });
    stack = await system.createStack({
      name: 'network',
      integrationId: integration.id,
      repository: { projectKey: PROJECT, slug: REPO },
      branch: 'main',
      projectRoot: 'infra/',
      prComments: true,
    });
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.error(system.tails());
  });

  after(async function () {
    this.timeout(60_000);
    await system?.close();
  });

  const reportKey = () => `stacklink-${stack.id}`;
  const report = (sha: string) =>
    system.sim.insightReport({ project: PROJECT, repo: REPO, commit: sha, key: reportKey() });

  async function finishedRun(sha: string, type: Run['type']): Promise<Run> {
    return waitFor(
      async () => {
        const run = (await system.runsOf(stack.id)).find((r) => r.commit === sha && r.type === type);
        return run && ['FINISHED', 'FAILED'].includes(run.state) ? run : undefined;
      },
      { timeoutMs: 30_000, message: `a ${type} run on ${sha} ends` },
    );
  }

  it('the stack API names the build key to require and the report key', () => {
    const keys = (stack as Stack & { bitbucket?: unknown }).bitbucket;
    expect(keys).to.deep.equal({ buildKey: `stacklink/${stack.id}`, reportKey: reportKey() });
  });

  it('a proposed run whose command writes a plan leaves a PASS report with the counts, the run link and 3 annotations', async () => {
    const push = await system.sim.push({
      project: PROJECT,
      repo: REPO,
      branch: 'feature/vpc',
      files: FILES,
    });
    commit = push.commit;
    const run = await finishedRun(commit, 'proposed');
    expect(run.state).to.equal('FINISHED');
    const held = await waitFor(
      () =>
        report(commit)?.result === 'PASS' && report(commit)?.annotations.length === 3
          ? report(commit)
          : undefined,
      {
        timeoutMs: 20_000,
        message: 'the PASS report reaches the simulator',
      },
    );
    expect(held.title).to.equal('network (proposed)');
    expect(held.link).to.equal(`${system.api.url}/stacks/${stack.id}/runs/${run.id}`);
    const data = Object.fromEntries(held.data.map((d) => [d.title, d.value]));
    expect(data).to.include({
      'Run type': 'proposed',
      State: 'Finished',
      'To add': 2,
      'To change': 1,
      'To destroy': 1,
    });
    expect(data.Duration).to.be.a('number');
    // The runner's summary line, then its note.
    expect(held.details).to.equal('Plan: 2 to add, 1 to change, 1 to destroy.\nexit code 0');
    expect(held.annotations.map((a) => [a.path, a.line, a.severity, a.message])).to.deep.equal([
      ['infra/main.tf', 1, 'HIGH', 'proposed finding 1'],
      ['infra/network.tf', 2, 'LOW', 'proposed finding 2'],
      ['infra/outputs.tf', 3, 'LOW', 'proposed finding 3'],
    ]);
    // The run's own record keeps what the runner sent, and the build status carries the stack's key as parent.
    expect(run.summary).to.deep.include({ add: 2, change: 1, destroy: 1 });
    const statuses = system.statusesOf(stack.id).get(commit) ?? [];
    expect(statuses.map((s) => s.parent)).to.satisfy((p: unknown[]) =>
      p.every((x) => x === `stacklink/${stack.id}`),
    );
  });

  it('a second run on the same commit replaces the annotations instead of adding to them', async () => {
    const deletesBefore = system.sim.recorded.requests.filter(
      (r) =>
        r.method === 'DELETE' && r.path.endsWith(`/commits/${commit}/reports/${reportKey()}/annotations`),
    ).length;
    await system.call(system.api, 'POST', `/api/v1/stacks/${stack.id}/runs`, { commit, type: 'tracked' });
    await finishedRun(commit, 'tracked');
    // The report is written first, then the old set deleted and the new one posted: wait for the new one.
    const held = await waitFor(
      () =>
        report(commit)?.annotations.some((a) => a.message.startsWith('tracked')) ? report(commit) : undefined,
      { timeoutMs: 20_000, message: 'the second run’s report replaces the first' },
    );
    await waitFor(() => report(commit)!.annotations.length >= 3, { message: 'the whole new set is in' });
    expect(held.title).to.equal('network (tracked)');
    expect(held.annotations.map((a) => a.message)).to.deep.equal([
      'tracked finding 1',
      'tracked finding 2',
      'tracked finding 3',
    ]);
    const deletesAfter = system.sim.recorded.requests.filter(
      (r) =>
        r.method === 'DELETE' && r.path.endsWith(`/commits/${commit}/reports/${reportKey()}/annotations`),
    ).length;
    expect(deletesAfter).to.be.greaterThan(deletesBefore);
  });

  it('a FAILED run leaves a FAIL report', async () => {
    writeFileSync(failFlag, '');
    const push = await system.sim.push({ project: PROJECT, repo: REPO, branch: 'feature/dns', files: FILES });
    const run = await finishedRun(push.commit, 'proposed');
    rmSync(failFlag);
    expect(run.state).to.equal('FAILED');
    const held = await waitFor(
      () => (report(push.commit)?.annotations.length === 3 ? report(push.commit) : undefined),
      {
        timeoutMs: 20_000,
        message: 'the FAIL report reaches the simulator',
      },
    );
    expect(held.result).to.equal('FAIL');
    expect(Object.fromEntries(held.data.map((d) => [d.title, d.value]))).to.include({ State: 'Failed' });
  });

  it('the required-builds merge check blocks the pull request while the stack is INPROGRESS or FAILED, and allows it once SUCCESSFUL', async () => {
    const buildKey = (stack as Stack & { bitbucket: { buildKey: string } }).bitbucket.buildKey;
    system.sim.requireBuilds({ project: PROJECT, repo: REPO, keys: [buildKey] });
    const merge = async (id: number) => {
      const res = await fetch(
        `${system.sim.url}/rest/api/1.0/projects/${PROJECT}/repos/${REPO}/pull-requests/${id}/merge`,
        { headers: { authorization: `Bearer ${SIM_TOKEN}` } },
      );
      return (await res.json()) as { canMerge: boolean; vetoes: { detailedMessage: string }[] };
    };
    const statusOf = (sha: string) => (system.statusesOf(stack.id).get(sha) ?? []).at(-1)?.state;

    writeFileSync(holdFlag, '');
    const first = await system.sim.push({
      project: PROJECT,
      repo: REPO,
      branch: 'feature/merge',
      files: FILES,
    });
    const pr = await system.sim.openPullRequest({
      project: PROJECT,
      repo: REPO,
      from: 'feature/merge',
      to: 'main',
    });
    await waitFor(() => statusOf(first.commit) === 'INPROGRESS', { message: 'the held run is INPROGRESS' });
    const whileRunning = await merge(pr.id);
    expect(whileRunning.canMerge).to.equal(false);
    expect(whileRunning.vetoes.map((v) => v.detailedMessage).join()).to.include(
      `'${buildKey}' is INPROGRESS`,
    );

    // The run came from the push; it belongs to the pull request once the trigger handled its opening.
    await waitFor(
      async () => (await system.runsOf(stack.id)).some((r) => r.commit === first.commit && r.pullRequest),
      { message: 'the run belongs to the pull request' },
    );
    writeFileSync(failFlag, '');
    rmSync(holdFlag);
    await waitFor(() => statusOf(first.commit) === 'FAILED', { message: 'the run fails' });
    const afterFailure = await merge(pr.id);
    expect(afterFailure.canMerge).to.equal(false);
    expect(afterFailure.vetoes.map((v) => v.detailedMessage).join()).to.include('is FAILED');

    rmSync(failFlag);
    const second = await system.sim.updatePullRequestSource({
      project: PROJECT,
      repo: REPO,
      id: pr.id,
      files: ['infra/main.tf'],
    });
    await waitFor(() => statusOf(second.commit) === 'SUCCESSFUL', {
      timeoutMs: 30_000,
      message: 'the new commit’s run succeeds',
    });
    expect(await merge(pr.id)).to.deep.include({ canMerge: true, vetoes: [] });
    // The opt-in pull-request comment of a run of the pull request shows the plan counts.
    await waitFor(
      () =>
        system.sim.recorded.comments.some(
          (c) =>
            c.pullRequestId === pr.id &&
            c.text.includes('Plan: **2** to add, **1** to change, **1** to destroy.'),
        ),
      {
        message: `the pull-request comment shows the counts: ${JSON.stringify(system.sim.recorded.comments)}`,
      },
    );
  });

  it('on a server without Code Insights only statuses are posted, after one probe', async () => {
    const insightCalls = () =>
      system.sim.recorded.requests.filter((r) => r.path.startsWith('/rest/insights/'));
    // The earlier tests' reports may still be written (a FINISHED run's annotations are replaced after
    // its status): switch insights off only once no insight call has come for a while, so none of
    // theirs meets the 404 and counts as this test's probe.
    let seen = -1;
    let quietSince = Date.now();
    await waitFor(
      () => {
        const count = insightCalls().length;
        if (count !== seen) [seen, quietSince] = [count, Date.now()];
        return Date.now() - quietSince >= 2_000;
      },
      { timeoutMs: 30_000, message: 'the earlier reports are all written' },
    );
    system.sim.setCodeInsights(false);
    const before = insightCalls().length;
    const commits: string[] = [];
    // One run after the other: this host answered "present" before (kept in Redis), and two replicas
    // finding out at the same moment would both meet the 404. A host never seen is probed once even by
    // concurrent replicas (reporter-code-insights.test.ts).
    for (const branch of ['feature/a', 'feature/b']) {
      const sha = (await system.sim.push({ project: PROJECT, repo: REPO, branch, files: FILES })).commit;
      commits.push(sha);
      await finishedRun(sha, 'proposed');
      await waitFor(
        () => (system.statusesOf(stack.id).get(sha) ?? []).some((s) => s.state === 'SUCCESSFUL'),
        { timeoutMs: 20_000, message: `the SUCCESSFUL status of ${sha}` },
      );
    }
    const probes = insightCalls().slice(before);
    expect(probes.map((r) => [r.method, r.status])).to.deep.equal([['PUT', 404]]);
    for (const sha of commits) expect(report(sha)).to.equal(undefined);
  });
});
