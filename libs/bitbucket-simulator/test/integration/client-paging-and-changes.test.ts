import { expect } from 'chai';
import { createBitbucketClient, type BitbucketClient } from '@stacklink/bitbucket';
import { startSimulator, type BitbucketSimulator } from '../../src';

describe('client against the simulator: paging and changed files', () => {
  let sim: BitbucketSimulator;
  let client: BitbucketClient;

  beforeEach(async () => {
    sim = await startSimulator({ pageSize: 3, contextPath: '/bitbucket' });
    sim.addUser({ name: 'ci', token: 'read-token', permission: 'read' });
    client = createBitbucketClient({ baseUrl: sim.url, token: 'read-token', pageLimit: 100 });
  });

  afterEach(() => sim.close());

  it('keeps the context path of the base URL on every call', async () => {
    expect(sim.url).to.match(/\/bitbucket$/);
    const version = await client.getServerVersion();
    expect(version.version).to.equal('8.19.1');
  });

  it('walks three pages of repositories and returns all of them, not truncated', async () => {
    for (let i = 1; i <= 8; i++) sim.addRepository({ project: 'PRJ', slug: `repo-${i}` });
    const all = await client.listAllRepositories({ projectKey: 'PRJ' });
    expect(all.values.map((r) => r.slug)).to.deep.equal(Array.from({ length: 8 }, (_, i) => `repo-${i + 1}`));
    expect(all.truncated).to.equal(false);
    expect(all.pages).to.equal(3);
    const starts = sim.recorded.requests
      .filter((r) => r.path === '/rest/api/1.0/projects/PRJ/repos')
      .map((r) => r.query.start);
    expect(starts).to.deep.equal(['0', '3', '6']);
  });

  it('returns one page of a filtered repository list with what is needed to ask for the next', async () => {
    for (const slug of ['net-core', 'net-edge', 'app', 'net-dns', 'net-vpn'])
      sim.addRepository({ project: 'PRJ', slug });
    const first = await client.listRepositories({ projectKey: 'PRJ', filter: 'net', limit: 2 });
    expect(first.values.map((r) => r.slug)).to.deep.equal(['net-core', 'net-edge']);
    expect(first.isLastPage).to.equal(false);
    const second = await client.listRepositories({
      projectKey: 'PRJ',
      filter: 'net',
      start: first.nextPageStart!,
      limit: 2,
    });
    expect(second.values.map((r) => r.slug)).to.deep.equal(['net-dns', 'net-vpn']);
    expect(second.isLastPage).to.equal(true);
  });

  it('lists the files of a commit range over several pages, oldest commit excluded', async () => {
    sim.addRepository({ project: 'PRJ', slug: 'infra' });
    const before = (await sim.push({ project: 'PRJ', repo: 'infra', branch: 'main', files: ['old.tf'] }))
      .commit;
    await sim.push({
      project: 'PRJ',
      repo: 'infra',
      branch: 'main',
      files: ['a.tf', 'b.tf', 'c.tf', 'd.tf'],
    });
    const after = (
      await sim.push({ project: 'PRJ', repo: 'infra', branch: 'main', files: ['e.tf', 'f.tf', 'g.tf'] })
    ).commit;
    const changed = await client.getCommitRangeChanges('PRJ', 'infra', { since: before, until: after });
    expect(changed.paths).to.deep.equal(['a.tf', 'b.tf', 'c.tf', 'd.tf', 'e.tf', 'f.tf', 'g.tf']);
    expect(changed.truncated).to.equal(false);
  });

  it('reports truncated: true when the change list is longer than the page cap allows', async () => {
    sim.addRepository({ project: 'PRJ', slug: 'infra' });
    const files = Array.from({ length: 10 }, (_, i) => `stacks/s${i}/main.tf`);
    const { commit } = await sim.push({ project: 'PRJ', repo: 'infra', branch: 'main', files });
    const capped = createBitbucketClient({ baseUrl: sim.url, token: 'read-token', maxPages: 2 });
    const changed = await capped.getCommitChanges('PRJ', 'infra', commit);
    expect(changed.paths).to.have.length(6);
    expect(changed.truncated).to.equal(true);
  });

  it('counts both paths of a moved file as changed', async () => {
    sim.addRepository({ project: 'PRJ', slug: 'infra', files: ['stacks/old/main.tf'] });
    const { commit } = await sim.push({
      project: 'PRJ',
      repo: 'infra',
      branch: 'main',
      files: [{ path: 'stacks/new/main.tf', type: 'MOVE', srcPath: 'stacks/old/main.tf' }],
    });
    const changed = await client.getCommitChanges('PRJ', 'infra', commit);
    expect(changed.paths).to.deep.equal(['stacks/new/main.tf', 'stacks/old/main.tf']);
  });

  it('lists the changes of a pull request and the pull requests of a commit', async () => {
    sim.addRepository({ project: 'PRJ', slug: 'infra' });
    await sim.push({ project: 'PRJ', repo: 'infra', branch: 'feature', files: ['net/main.tf'] });
    const { commit } = await sim.push({
      project: 'PRJ',
      repo: 'infra',
      branch: 'feature',
      files: ['app/main.tf'],
    });
    const { id } = await sim.openPullRequest({ project: 'PRJ', repo: 'infra', from: 'feature', to: 'main' });
    const changes = await client.getPullRequestChanges('PRJ', 'infra', id);
    expect(changes.paths).to.deep.equal(['app/main.tf', 'net/main.tf']);
    const prs = await client.getPullRequestsForCommit('PRJ', 'infra', commit);
    expect(prs.values.map((pr) => pr.id)).to.deep.equal([id]);
    const pr = await client.getPullRequest('PRJ', 'infra', id);
    expect(pr.fromRef.latestCommit).to.equal(commit);
  });

  it('lists every project and reads one repository', async () => {
    for (const key of ['A', 'B', 'C', 'D']) sim.addProject({ key });
    sim.addRepository({ project: 'A', slug: 'one' });
    const projects = await client.listAllProjects();
    expect(projects.values.map((p) => p.key)).to.deep.equal(['A', 'B', 'C', 'D']);
    const repo = await client.getRepository('A', 'one');
    expect(repo.project.key).to.equal('A');
  });

  it('resolves a lightweight tag to its commit, which its webhook carries too', async () => {
    sim.addRepository({ project: 'PRJ', slug: 'infra' });
    sim.setWebhookDelivery({ url: 'http://127.0.0.1:9/' });
    const { commit } = await sim.push({ project: 'PRJ', repo: 'infra', branch: 'main', files: ['a.tf'] });
    const { deliveries } = await sim.pushRefs({ project: 'PRJ', repo: 'infra', changes: [{ tag: 'v1' }] });
    const pushed = JSON.parse(deliveries[0]!.body) as { changes: { toHash: string }[] };
    expect(pushed.changes.map((c) => c.toHash)).to.deep.equal([commit]);
    const tag = await client.getTag('PRJ', 'infra', 'refs/tags/v1');
    expect(tag).to.include({
      id: 'refs/tags/v1',
      displayId: 'v1',
      type: 'TAG',
      latestCommit: commit,
      latestChangeset: commit,
      hash: null,
    });
  });

  it('resolves an annotated tag to the commit it names, while its webhook carries the tag object', async () => {
    sim.addRepository({ project: 'PRJ', slug: 'infra' });
    sim.setWebhookDelivery({ url: 'http://127.0.0.1:9/' });
    const { commit } = await sim.push({ project: 'PRJ', repo: 'infra', branch: 'main', files: ['a.tf'] });
    const { deliveries } = await sim.pushRefs({
      project: 'PRJ',
      repo: 'infra',
      changes: [{ tag: 'release/1.0', annotated: true, message: 'Release 1.0' }],
    });
    const pushed = JSON.parse(deliveries[0]!.body) as {
      changes: { refId: string; fromHash: string; toHash: string }[];
    };
    const tagObject = pushed.changes[0]!.toHash;
    expect(tagObject)
      .to.match(/^[0-9a-f]{40}$/)
      .and.not.equal(commit);

    const tag = await client.getTag('PRJ', 'infra', 'release/1.0');
    expect(tag).to.include({
      id: 'refs/tags/release/1.0',
      displayId: 'release/1.0',
      latestCommit: commit,
      latestChangeset: commit,
      hash: tagObject,
    });
    expect(sim.recorded.requests.at(-1)!.path).to.equal(
      '/rest/api/1.0/projects/PRJ/repos/infra/tags/release/1.0',
    );
    // Git does not take a tag object for a commit here: only the peeled commit has changes.
    const err = await client.getCommitChanges('PRJ', 'infra', tagObject).catch((e: unknown) => e);
    expect(err).to.include({ code: 'BITBUCKET.NOT_FOUND' });
  });

  it('lists tags with the commit each names, and answers NOT_FOUND for a tag that does not exist', async () => {
    sim.addRepository({ project: 'PRJ', slug: 'infra' });
    const { commit } = await sim.push({ project: 'PRJ', repo: 'infra', branch: 'main', files: ['a.tf'] });
    await sim.pushRefs({
      project: 'PRJ',
      repo: 'infra',
      changes: [{ tag: 'v2', annotated: true }, { tag: 'v1' }],
    });
    const res = await fetch(`${sim.url}/rest/api/latest/projects/PRJ/repos/infra/tags`, {
      headers: { authorization: 'Bearer read-token' },
    });
    const page = (await res.json()) as {
      values: { id: string; latestCommit: string; hash: string | null }[];
    };
    expect(page.values.map((t) => [t.id, t.latestCommit, t.hash === null])).to.deep.equal([
      ['refs/tags/v1', commit, true],
      ['refs/tags/v2', commit, false],
    ]);
    const err = await client.getTag('PRJ', 'infra', 'v3').catch((e: unknown) => e);
    expect(err).to.include({ code: 'BITBUCKET.NOT_FOUND' });
  });
});
