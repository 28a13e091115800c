import { expect } from 'chai';
import { createBitbucketClient } from '@stacklink/bitbucket';
import { startSimulator, type BitbucketSimulator } from '../../src';
import { rejection, startReceiver } from './helpers';

const hook = (url: string) => ({ name: 'stacklink-int', url, events: ['repo:refs_changed'], active: true });

describe('simulator: managed webhooks (project hooks, permissions, statistics, missed events)', () => {
  let sim: BitbucketSimulator;

  beforeEach(async () => {
    sim = await startSimulator({ pageSize: 2 });
    sim.addUser({ name: 'admin', token: 'admin-token', permission: 'admin' });
    sim.addUser({ name: 'writer', token: 'writer-token', permission: 'read' });
    sim.addUser({ name: 'owner', token: 'owner-token', permission: 'read' });
    sim.addRepository({ project: 'PRJ', slug: 'infra' });
    sim.addRepository({ project: 'PRJ', slug: 'apps' });
    sim.setRepositoryPermission({ project: 'PRJ', repo: 'infra', user: 'writer', permission: 'REPO_WRITE' });
    sim.setRepositoryPermission({ project: 'PRJ', repo: 'infra', user: 'owner', permission: 'REPO_ADMIN' });
  });

  afterEach(() => sim.close());

  it('a token without REPO_ADMIN is refused the repository hooks with a 403 naming the permission', async () => {
    const writer = createBitbucketClient({ baseUrl: sim.url, token: 'writer-token' });
    const err = await rejection(writer.listWebhooksOf({ projectKey: 'PRJ', slug: 'infra' }));
    expect(err.code).to.equal('BITBUCKET.FORBIDDEN');
    expect(err.message).to.contain('REPO_ADMIN');
    const owner = createBitbucketClient({ baseUrl: sim.url, token: 'owner-token' });
    expect((await owner.listWebhooksOf({ projectKey: 'PRJ', slug: 'infra' })).values).to.deep.equal([]);
  });

  it('project hooks need PROJECT_ADMIN, and receive the events of every repository of the project', async () => {
    const receiver = await startReceiver();
    try {
      const owner = createBitbucketClient({ baseUrl: sim.url, token: 'owner-token' });
      const err = await rejection(owner.createWebhookOn({ projectKey: 'PRJ' }, hook(receiver.url)));
      expect(err.message).to.contain('PROJECT_ADMIN');
      sim.setProjectPermission({ project: 'PRJ', user: 'owner', permission: 'PROJECT_ADMIN' });
      const created = await owner.createWebhookOn({ projectKey: 'PRJ' }, hook(receiver.url));
      expect(created.scopeType).to.equal('project');
      expect((await owner.listWebhooksOf({ projectKey: 'PRJ', slug: 'apps' })).values).to.deep.equal([]);
      await sim.push({ project: 'PRJ', repo: 'apps', branch: 'main', files: ['a.tf'] });
      expect(receiver.received).to.have.length(1);
    } finally {
      await receiver.close();
    }
  });

  it('a disabled hook is not delivered to, and held deliveries reach no hook', async () => {
    const receiver = await startReceiver();
    try {
      const admin = createBitbucketClient({ baseUrl: sim.url, token: 'admin-token' });
      const created = await admin.createWebhookOn({ projectKey: 'PRJ', slug: 'infra' }, hook(receiver.url));
      sim.editWebhook(created.id, { active: false });
      await sim.push({ project: 'PRJ', repo: 'infra', branch: 'main', files: ['a.tf'] });
      sim.editWebhook(created.id, { active: true });
      sim.holdWebhookDeliveries(true);
      await sim.push({ project: 'PRJ', repo: 'infra', branch: 'main', files: ['b.tf'] });
      sim.holdWebhookDeliveries(false);
      expect(receiver.received).to.have.length(0);
      await sim.push({ project: 'PRJ', repo: 'infra', branch: 'main', files: ['c.tf'] });
      expect(receiver.received).to.have.length(1);
      // The held event arrives late, after the one that followed it.
      const late = await sim.deliverHeldWebhooks();
      expect(late).to.have.length(1);
      expect(receiver.received).to.have.length(2);
      expect(JSON.parse(receiver.received[1]!.rawBody.toString()).changes[0].toHash).to.be.a('string');
    } finally {
      await receiver.close();
    }
  });

  it('statistics report the last success, and a receiver that is down as the last error', async () => {
    const receiver = await startReceiver();
    const admin = createBitbucketClient({ baseUrl: sim.url, token: 'admin-token' });
    const scope = { projectKey: 'PRJ', slug: 'infra' };
    const created = await admin.createWebhookOn(scope, hook(receiver.url));
    await sim.push({ project: 'PRJ', repo: 'infra', branch: 'main', files: ['a.tf'] });
    await receiver.close();
    await sim.push({ project: 'PRJ', repo: 'infra', branch: 'main', files: ['b.tf'] });
    const stats = await admin.getWebhookStatistics(scope, created.id);
    expect(stats?.lastSuccess?.result?.outcome).to.equal('SUCCESS');
    expect(stats?.lastError?.result?.outcome).to.equal('ERROR');
    expect(stats?.lastFailure).to.equal(undefined);
  });

  it('lists branches by filter text and open pull requests, paged to the end', async () => {
    for (const b of ['feature-1', 'feature-2', 'feature-3']) {
      await sim.push({ project: 'PRJ', repo: 'infra', branch: b, files: [`${b}.tf`] });
      await sim.openPullRequest({ project: 'PRJ', repo: 'infra', from: b, to: 'main' });
    }
    const admin = createBitbucketClient({ baseUrl: sim.url, token: 'admin-token' });
    const branches = await admin.listBranches('PRJ', 'infra', 'feature');
    expect(branches.values.map((b) => b.displayId).sort()).to.deep.equal([
      'feature-1',
      'feature-2',
      'feature-3',
    ]);
    const prs = await admin.listOpenPullRequests('PRJ', 'infra');
    expect(prs.values).to.have.length(3);
    const paged = sim.recorded.requests.filter((r) => r.path.endsWith('/pull-requests'));
    expect(paged).to.have.length(2);
  });
});
