import { expect } from 'chai';
import { createBitbucketClient, MAX_COMMENT_LENGTH, type BitbucketClient } from '@stacklink/bitbucket';
import { startSimulator, type BitbucketSimulator } from '../../src';
import { rejection } from './helpers';

const status = {
  key: 'stacklink/stk-1',
  state: 'SUCCESSFUL' as const,
  url: 'https://ui.example.com/stacks/stk-1/runs/r1',
  name: 'network (tracked)',
};

async function seeded(options: Parameters<typeof startSimulator>[0] = {}) {
  const sim = await startSimulator(options);
  sim.addUser({ name: 'ci', token: 'read-token', permission: 'read' });
  sim.addUser({ name: 'admin', token: 'admin-token', permission: 'admin' });
  sim.addRepository({ project: 'PRJ', slug: 'infra' });
  const { commit } = await sim.push({ project: 'PRJ', repo: 'infra', branch: 'feature', files: ['main.tf'] });
  const { id } = await sim.openPullRequest({
    project: 'PRJ',
    repo: 'infra',
    from: 'feature',
    to: 'main',
    author: 'admin',
  });
  return { sim, commit, prId: id };
}

describe('client against the simulator: build statuses', () => {
  let sim: BitbucketSimulator;
  let commit: string;

  afterEach(() => sim.close());

  it('posts to the repository-scoped build API where the server has it', async () => {
    ({ sim, commit } = await seeded());
    const client = createBitbucketClient({ baseUrl: sim.url, token: 'read-token' });
    expect(
      await client.postBuildStatus('PRJ', 'infra', commit, { ...status, state: 'CANCELLED' }),
    ).to.deep.equal({
      api: 'repository',
      state: 'CANCELLED',
    });
    expect(sim.recorded.statuses).to.have.length(1);
    expect(sim.recorded.statuses[0]).to.deep.include({
      api: 'repository',
      projectKey: 'PRJ',
      slug: 'infra',
      commit,
      state: 'CANCELLED',
      key: status.key,
    });
    expect(await client.getBuildCapabilities()).to.deep.equal({
      repositoryScoped: true,
      cancelledState: true,
      buildStatus: ['richBuildStatus'],
    });
  });

  it('on an older server it falls back to the legacy API, posts CANCELLED as FAILED, and remembers', async () => {
    ({ sim, commit } = await seeded({ legacyBuildStatusOnly: true }));
    const client = createBitbucketClient({ baseUrl: sim.url, token: 'read-token' });
    expect(
      await client.postBuildStatus('PRJ', 'infra', commit, { ...status, state: 'CANCELLED' }),
    ).to.deep.equal({
      api: 'legacy',
      state: 'FAILED',
    });
    expect(await client.postBuildStatus('PRJ', 'infra', commit, status)).to.deep.equal({
      api: 'legacy',
      state: 'SUCCESSFUL',
    });
    const attempts = sim.recorded.requests.filter((r) => r.path.endsWith('/builds')).map((r) => r.status);
    expect(attempts, 'the repository-scoped API is tried once only').to.deep.equal([404]);
    expect(sim.recorded.statuses.map((s) => [s.api, s.state])).to.deep.equal([
      ['legacy', 'FAILED'],
      ['legacy', 'SUCCESSFUL'],
    ]);
    expect(await client.getBuildCapabilities()).to.deep.equal({
      repositoryScoped: false,
      cancelledState: false,
      buildStatus: [],
    });
  });

  it('does not fall back when the repository itself does not exist', async () => {
    ({ sim, commit } = await seeded());
    const client = createBitbucketClient({ baseUrl: sim.url, token: 'read-token' });
    const err = await rejection(client.postBuildStatus('PRJ', 'gone', commit, status));
    expect(err.code).to.equal('BITBUCKET.NOT_FOUND');
    expect(sim.recorded.requests.some((r) => r.path.startsWith('/rest/build-status'))).to.equal(false);
  });

  it('gets a 400 with the field named for a key over 255 characters', async () => {
    ({ sim, commit } = await seeded());
    const client = createBitbucketClient({ baseUrl: sim.url, token: 'read-token' });
    const err = await rejection(
      client.postBuildStatus('PRJ', 'infra', commit, { ...status, key: 'k'.repeat(256) }),
    );
    expect(err.code).to.equal('BITBUCKET.BAD_REQUEST');
    expect((err.details as { messages: string[] }).messages[0]).to.include('key');
  });
});

describe('client against the simulator: pull-request comments', () => {
  let sim: BitbucketSimulator;
  let prId: number;
  let client: BitbucketClient;

  beforeEach(async () => {
    ({ sim, prId } = await seeded());
    client = createBitbucketClient({ baseUrl: sim.url, token: 'read-token' });
  });

  afterEach(() => sim.close());

  it('creates a comment, then updates it in place with its version', async () => {
    const created = await client.createPullRequestComment('PRJ', 'infra', prId, 'Plan: 1 to add');
    expect(created.version).to.equal(0);
    const updated = await client.updatePullRequestComment('PRJ', 'infra', prId, created.id, {
      text: 'Plan: 2 to add',
      version: 0,
    });
    expect(updated).to.deep.include({ id: created.id, version: 1, text: 'Plan: 2 to add' });
    expect(sim.recorded.comments.map((c) => [c.id, c.version, c.text])).to.deep.equal([
      [created.id, 1, 'Plan: 2 to add'],
    ]);
  });

  it('fails with CONFLICT when updating with an out-of-date version', async () => {
    const created = await client.createPullRequestComment('PRJ', 'infra', prId, 'first');
    await client.updatePullRequestComment('PRJ', 'infra', prId, created.id, { text: 'second', version: 0 });
    const err = await rejection(
      client.updatePullRequestComment('PRJ', 'infra', prId, created.id, { text: 'third', version: 0 }),
    );
    expect(err.code).to.equal('BITBUCKET.CONFLICT');
    expect((err.details as { exceptionNames: string[] }).exceptionNames[0]).to.match(
      /CommentOutOfDateException$/,
    );
  });

  it('splits a text over 32,768 characters into a comment and replies, each accepted by Bitbucket', async () => {
    const text = `${'line of plan output\n'.repeat(4000)}`;
    expect(text.length).to.be.greaterThan(2 * MAX_COMMENT_LENGTH);
    const posted = await client.postLongPullRequestComment('PRJ', 'infra', prId, text);
    expect(posted).to.have.length(3);
    const stored = sim.recorded.comments;
    expect(stored.map((c) => c.text).join('')).to.equal(text);
    expect(stored[0]!.parentId).to.equal(undefined);
    expect(stored.slice(1).map((c) => c.parentId)).to.deep.equal([posted[0]!.id, posted[0]!.id]);
  });

  it('lists the pull request’s comment activity newest first over several pages, up to maxItems', async () => {
    const texts = ['one', 'two', 'three', 'four', 'five'];
    const posted = [];
    for (const text of texts) posted.push(await client.createPullRequestComment('PRJ', 'infra', prId, text));
    // A reply is part of its comment, not an activity of its own.
    await client.createPullRequestComment('PRJ', 'infra', prId, 'a reply', { parentId: posted[0]!.id });

    const all = await client.listPullRequestActivities('PRJ', 'infra', prId);
    expect(all).to.include({ truncated: false, pages: 2 }); // the simulator pages by 3
    expect(all.values.map((a) => [a.action, a.commentAction, a.comment?.id, a.comment?.text])).to.deep.equal(
      [...posted].reverse().map((c) => ['COMMENTED', 'ADDED', c.id, c.text]),
    );
    expect(all.values.at(-1)!.comment!.comments!.map((c) => c.text)).to.deep.equal(['a reply']);

    const recent = await client.listPullRequestActivities('PRJ', 'infra', prId, { maxItems: 2 });
    expect(recent.truncated).to.equal(true);
    expect(recent.values.map((a) => a.comment?.text)).to.deep.equal(['five', 'four']);
  });

  it('refuses a single comment over the limit before sending it', async () => {
    const err = await rejection(
      client.createPullRequestComment('PRJ', 'infra', prId, 'x'.repeat(MAX_COMMENT_LENGTH + 1)),
    );
    expect(err.code).to.equal('BITBUCKET.BAD_REQUEST');
    expect(sim.recorded.requests.filter((r) => r.method === 'POST')).to.have.length(0);
  });
});

describe('client against the simulator: repository webhooks', () => {
  let sim: BitbucketSimulator;
  let client: BitbucketClient;

  beforeEach(async () => {
    ({ sim } = await seeded());
    client = createBitbucketClient({ baseUrl: sim.url, token: 'admin-token' });
  });

  afterEach(() => sim.close());

  it('creates, lists over several pages, updates and deletes webhooks', async () => {
    const created = [];
    for (let i = 1; i <= 4; i++) {
      created.push(
        await client.createWebhook('PRJ', 'infra', {
          name: `hook-${i}`,
          url: `https://hooks.example.com/${i}`,
          events: ['repo:refs_changed', 'pr:opened'],
          active: true,
          configuration: { secret: `s${i}` },
        }),
      );
    }
    const listed = await client.listWebhooks('PRJ', 'infra');
    expect(listed.values.map((w) => w.name)).to.deep.equal(['hook-1', 'hook-2', 'hook-3', 'hook-4']);
    expect(listed.pages).to.equal(2);
    const updated = await client.updateWebhook('PRJ', 'infra', created[0]!.id, {
      name: 'hook-1',
      url: 'https://hooks.example.com/moved',
      events: ['repo:refs_changed'],
      active: false,
    });
    expect(updated).to.deep.include({ url: 'https://hooks.example.com/moved', active: false });
    await client.deleteWebhook('PRJ', 'infra', created[1]!.id);
    expect(sim.recorded.webhooks.map((w) => w.name)).to.deep.equal(['hook-1', 'hook-3', 'hook-4']);
  });

  it('refuses a webhook with an unknown event, naming the field', async () => {
    const err = await rejection(
      client.createWebhook('PRJ', 'infra', {
        name: 'x',
        url: 'https://h.example.com',
        events: ['pr:exploded'],
      }),
    );
    expect(err.code).to.equal('BITBUCKET.BAD_REQUEST');
  });

  it('reads the webhook capabilities: the events the server can send', async () => {
    const capabilities = await client.getWebhookCapabilities();
    expect(capabilities.supported).to.equal(true);
    expect(capabilities.events).to.include.members([
      'repo:refs_changed',
      'pr:from_ref_updated',
      'pr:comment:added',
    ]);
  });
});
