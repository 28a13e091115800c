import { expect } from 'chai';
import { createBitbucketClient } from '@stacklink/bitbucket';
import { startSimulator, type BitbucketSimulator } from '../../src';
import { rejection } from './helpers';

describe('client against the simulator: repository permissions', () => {
  let sim: BitbucketSimulator;

  beforeEach(async () => {
    sim = await startSimulator({ pageSize: 2 });
    sim.addUser({ name: 'ci', token: 'ci-token', permission: 'read' });
    sim.addUser({ name: 'root', token: 'root-token', permission: 'admin' });
    for (const name of ['dev', 'dev2', 'dev3', 'developer', 'viewer'])
      sim.addUser({ name, token: `${name}-t` });
    sim.addRepository({ project: 'PRJ', slug: 'infra' });
    for (const name of ['dev2', 'dev3', 'developer']) {
      sim.setRepositoryPermission({ project: 'PRJ', repo: 'infra', user: name, permission: 'REPO_WRITE' });
    }
    sim.setRepositoryPermission({ project: 'PRJ', repo: 'infra', user: 'dev', permission: 'REPO_ADMIN' });
    sim.setRepositoryPermission({ project: 'PRJ', repo: 'infra', user: 'viewer', permission: 'REPO_READ' });
  });

  afterEach(() => sim.close());

  it('finds a writer by exact name across pages of users whose names contain it', async () => {
    const client = createBitbucketClient({ baseUrl: sim.url, token: 'ci-token' });
    // "dev" matches dev, dev2, dev3, developer: two pages of two.
    expect(await client.userHasRepositoryPermission('PRJ', 'infra', 'developer', 'REPO_WRITE')).to.equal(
      true,
    );
    expect(await client.userHasRepositoryPermission('PRJ', 'infra', 'dev', 'REPO_WRITE')).to.equal(true);
    expect(await client.userHasRepositoryPermission('PRJ', 'infra', 'root', 'REPO_WRITE')).to.equal(true);
  });

  it('answers false for a reader, a user without a grant and a name that only prefixes a writer', async () => {
    const client = createBitbucketClient({ baseUrl: sim.url, token: 'ci-token' });
    expect(await client.userHasRepositoryPermission('PRJ', 'infra', 'viewer', 'REPO_WRITE')).to.equal(false);
    expect(await client.userHasRepositoryPermission('PRJ', 'infra', 'ci', 'REPO_WRITE')).to.equal(false);
    expect(await client.userHasRepositoryPermission('PRJ', 'infra', 'devel', 'REPO_WRITE')).to.equal(false);
  });

  it('pages the user search as Bitbucket does and answers its error JSON for a bad filter', async () => {
    const auth = { authorization: 'Bearer ci-token' };
    const q = 'permission.1=REPO_WRITE&permission.1.projectKey=PRJ&permission.1.repositorySlug=infra';
    const first = (await (
      await fetch(`${sim.url}/rest/api/1.0/users?filter=dev&${q}`, { headers: auth })
    ).json()) as {
      values: { name: string }[];
      isLastPage: boolean;
      nextPageStart?: number;
    };
    expect(first.values.map((u) => u.name)).to.deep.equal(['dev', 'dev2']);
    expect(first).to.include({ isLastPage: false, nextPageStart: 2 });
    const bad = await fetch(`${sim.url}/rest/api/1.0/users?permission.1=REPO_EVERYTHING`, { headers: auth });
    expect(bad.status).to.equal(400);
    expect(((await bad.json()) as { errors: { message: string }[] }).errors[0]!.message).to.include(
      'REPO_EVERYTHING',
    );
  });

  it('answers 404 for the permission of a repository that does not exist', async () => {
    const client = createBitbucketClient({ baseUrl: sim.url, token: 'ci-token' });
    const err = await rejection(client.userHasRepositoryPermission('PRJ', 'nope', 'dev', 'REPO_WRITE'));
    expect(err).to.include({ code: 'BITBUCKET.NOT_FOUND' });
  });

  it('answers 401 to an unauthenticated search', async () => {
    const res = await fetch(`${sim.url}/rest/api/1.0/users?filter=dev`);
    expect(res.status).to.equal(401);
  });
});
