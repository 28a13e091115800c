import { expect } from 'chai';
import { createBitbucketClient, type BitbucketClient } from '@stacklink/bitbucket';
import { startSimulator, type BitbucketSimulator } from '../../src';

/** The resources the trigger worker asks before it trusts a webhook (docs/architecture.md §12). */
describe('client against the simulator: confirming what a webhook claims', () => {
  let sim: BitbucketSimulator;
  let client: BitbucketClient;

  beforeEach(async () => {
    sim = await startSimulator({ pageSize: 2 });
    sim.addUser({ name: 'ci', token: 'read-token', permission: 'read' });
    client = createBitbucketClient({ baseUrl: sim.url, token: 'read-token', pageLimit: 100 });
    sim.addRepository({ project: 'PRJ', slug: 'infra' });
  });

  afterEach(() => sim.close());

  it('lists every branch that contains a commit, over several pages, from branch-utils', async () => {
    const { commit } = await sim.push({ project: 'PRJ', repo: 'infra', branch: 'main', files: ['a.tf'] });
    for (const branch of ['b1', 'b2', 'b3'])
      await sim.pushRefs({ project: 'PRJ', repo: 'infra', changes: [{ branch, files: [`${branch}.tf`] }] });
    const later = await sim.push({ project: 'PRJ', repo: 'infra', branch: 'side', files: ['s.tf'] });

    const containing = await client.listBranchesContaining('PRJ', 'infra', commit);
    expect(containing.values.map((b) => b.id)).to.include.members(['refs/heads/main', 'refs/heads/side']);
    expect(containing.truncated).to.equal(false);
    const asked = sim.recorded.requests.filter((r) => r.path.includes('/branches/info/'));
    expect(asked[0]!.path).to.equal(
      `/rest/branch-utils/latest/projects/PRJ/repos/infra/branches/info/${commit}`,
    );
    expect(asked.length).to.equal(containing.pages);

    const onSide = await client.listBranchesContaining('PRJ', 'infra', later.commit);
    expect(onSide.values.map((b) => [b.id, b.latestCommit])).to.deep.equal([
      ['refs/heads/side', later.commit],
    ]);
  });

  it('answers a commit Bitbucket does not know with its 404 error JSON', async () => {
    const err = await client.listBranchesContaining('PRJ', 'infra', 'f'.repeat(40)).catch((e: unknown) => e);
    expect(err).to.include({ code: 'BITBUCKET.NOT_FOUND' });
    const res = await fetch(
      `${sim.url}/rest/branch-utils/latest/projects/PRJ/repos/infra/branches/info/${'f'.repeat(40)}`,
      {
        headers: { Authorization: 'Bearer read-token' },
      },
    );
    expect(res.status).to.equal(404);
    expect(await res.json()).to.deep.equal({
      errors: [
        {
          context: null,
          message: `Commit '${'f'.repeat(40)}' does not exist in repository 'infra'.`,
          exceptionName: 'com.atlassian.bitbucket.commit.NoSuchCommitException',
        },
      ],
    });
  });

  it('lists the commits reachable from until and not from since, newest first; none when until is an ancestor', async () => {
    const first = await sim.push({ project: 'PRJ', repo: 'infra', branch: 'main', files: ['1.tf'] });
    const second = await sim.push({ project: 'PRJ', repo: 'infra', branch: 'main', files: ['2.tf'] });
    const third = await sim.push({ project: 'PRJ', repo: 'infra', branch: 'main', files: ['3.tf'] });

    const after = await client.listCommits('PRJ', 'infra', { until: 'refs/heads/main', since: first.commit });
    expect(after.values.map((c) => c.id)).to.deep.equal([third.commit, second.commit]);
    expect(after.isLastPage).to.equal(true);

    const page = await client.listCommits('PRJ', 'infra', { until: third.commit, limit: 1 });
    expect(page.values.map((c) => c.id)).to.deep.equal([third.commit]);
    expect(page.isLastPage).to.equal(false);

    const none = await client.listCommits('PRJ', 'infra', { until: first.commit, since: third.commit });
    expect(none.values).to.deep.equal([]);
    const err = await client
      .listCommits('PRJ', 'infra', { until: 'refs/heads/main', since: 'e'.repeat(40) })
      .catch((e: unknown) => e);
    expect(err).to.include({ code: 'BITBUCKET.NOT_FOUND' });
  });
});
