import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { waitFor } from '@stacklink/testing';
import type { RunningRole } from '@stacklink/http';
import { startTriggerHarness, waitForRuns, type TriggerHarness } from '../support/trigger-harness';

/** The trigger worker asks Bitbucket (the simulator) before it acts (docs/architecture.md §12). */
describe('trigger worker: Bitbucket confirms a delivery before it starts or cancels a run', function () {
  this.timeout(30_000);
  let h: TriggerHarness;
  let worker: RunningRole;

  before(async () => {
    h = await startTriggerHarness();
  });
  after(async () => {
    await h?.close();
  });
  beforeEach(async () => {
    worker = await h.startWorker();
    h.deliverTo('sink');
  });
  afterEach(async () => {
    await h.stopWorkers();
    h.deliverTo('gateway');
  });

  const unconfirmed = async (reason: string) => {
    const text = await (await fetch(`${worker.url}/metrics`)).text();
    const match = new RegExp(`stacklink_trigger_unconfirmed_total\\{reason="${reason}"\\} (\\d+)`).exec(text);
    return match ? Number(match[1]) : 0;
  };
  const repoRequests = (slug: string) =>
    h.sim.recorded.requests
      .filter((r) => r.path.includes(`/repos/${slug}/`))
      .map((r) => `${r.method} ${r.path}`);

  it('confirms a push to the tracked branch with one branch-utils call beside the changed files, then runs it', async () => {
    const slug = h.addRepository();
    const stack = await h.addStack(slug);
    const { commit, deliveries } = await h.sim.push({
      project: 'PRJ',
      repo: slug,
      branch: 'main',
      files: ['stacks/app/main.tf'],
    });
    await h.publishDelivery(deliveries[0]!);
    const [run] = await waitForRuns(h, stack.id, 1);
    expect(run).to.include({ commit, type: 'tracked' });
    expect(repoRequests(slug)).to.deep.equal([
      `GET /rest/branch-utils/latest/projects/PRJ/repos/${slug}/branches/info/${commit}`,
      `GET /rest/api/1.0/projects/PRJ/repos/${slug}/compare/changes`,
    ]);
  });

  it('refuses a push that claims main holds a commit Bitbucket shows only on another branch', async () => {
    const slug = h.addRepository();
    const stack = await h.addStack(slug);
    const side = await h.sim.push({ project: 'PRJ', repo: slug, branch: 'side', files: ['stacks/app/x.tf'] });
    const main = await h.sim.push({ project: 'PRJ', repo: slug, branch: 'main', files: ['README.md'] });
    const before = await unconfirmed('refused');
    const body = JSON.parse(main.deliveries[0]!.body) as { changes: { toHash: string }[] };
    body.changes[0]!.toHash = side.commit;
    await h.publishDelivery({ ...main.deliveries[0]!, requestId: randomUUID(), body: JSON.stringify(body) });
    await waitFor(async () => (await unconfirmed('refused')) === before + 1, {
      message: 'the forged push was never refused',
    });
    expect((await h.store.runs.listByStack(stack.id)).filter((r) => r.type === 'tracked')).to.deep.equal([]);
  });

  it('refuses a replayed source update whose commit is no longer the source: the newer proposed run stays queued', async () => {
    const slug = h.addRepository();
    const stack = await h.addStack(slug);
    await h.sim.push({ project: 'PRJ', repo: slug, branch: 'feature', files: ['stacks/app/a.tf'] });
    const pr = await h.sim.openPullRequest({ project: 'PRJ', repo: slug, from: 'feature', to: 'main' });
    const second = await h.sim.updatePullRequestSource({
      project: 'PRJ',
      repo: slug,
      id: pr.id,
      files: ['stacks/app/b.tf'],
    });
    const third = await h.sim.updatePullRequestSource({
      project: 'PRJ',
      repo: slug,
      id: pr.id,
      files: ['stacks/app/c.tf'],
    });
    const update = (d: typeof second.deliveries) => d.find((x) => x.eventKey === 'pr:from_ref_updated')!;
    await h.publishDelivery(update(third.deliveries));
    await waitFor(
      async () => (await h.store.runs.find(stack.id, third.commit, 'proposed'))?.state === 'QUEUED',
      {
        message: 'no queued run for the newest commit',
      },
    );
    const before = await unconfirmed('refused');
    await h.publishDelivery({ ...update(second.deliveries), requestId: randomUUID() });
    await waitFor(async () => (await unconfirmed('refused')) === before + 1, {
      message: 'the replayed source update was never refused',
    });
    expect(await h.store.runs.find(stack.id, third.commit, 'proposed')).to.include({ state: 'QUEUED' });
    expect(await h.store.runs.find(stack.id, second.commit, 'proposed')).to.equal(undefined);
  });

  it('keeps an event whose confirmation Bitbucket answers with 503 for a retry, then confirms and runs it', async () => {
    const slug = h.addRepository();
    const stack = await h.addStack(slug);
    const { commit, deliveries } = await h.sim.push({
      project: 'PRJ',
      repo: slug,
      branch: 'main',
      files: ['stacks/app/main.tf'],
    });
    h.sim.injectFaults({ path: new RegExp(`/branches/info/${commit}$`), status: 503, count: 4 });
    await h.publishDelivery(deliveries[0]!);
    const [run] = await waitForRuns(h, stack.id, 1, 20_000);
    expect(run).to.include({ commit, type: 'tracked' });
    const statuses = h.sim.recorded.requests
      .filter((r) => r.path.endsWith(`/branches/info/${commit}`))
      .map((r) => r.status);
    expect(statuses).to.deep.equal([503, 503, 503, 503, 200]);
  });
});
