import { expect } from 'chai';
import { WEBHOOK_EVENTS, type SimComment } from '@stacklink/bitbucket-simulator';
import { waitFor } from '@stacklink/testing';
import { System, type Run, type Stack } from '../support/system';

const PROJECT = 'TRU';
const REPO = 'infra';

/**
 * Trust boundaries of comment commands, globs and project roots (docs/architecture.md §12), across every
 * role as its own OS process with the Bitbucket simulator as Bitbucket.
 */
describe('end to end: who may command Stacklink, and what a stack may hold', function () {
  this.timeout(90_000);
  let system: System;
  let integrationId: string;
  let prod: Stack;
  let staging: Stack;
  let pullRequestId: number;
  let sourceCommit: string;
  let accepted = 0;

  before(async function () {
    this.timeout(90_000);
    system = await System.start({
      label: 'trust',
      gateways: 1,
      triggers: 1,
      reporters: 1,
      startRunner: false,
    });
    const created = await system.createIntegration();
    integrationId = created.id;
    system.sim.addRepository({ project: PROJECT, slug: REPO, files: ['README.md', 'infra/prod/main.tf'] });
    system.sim.addWebhook({
      project: PROJECT,
      repo: REPO,
      url: created.webhook.endpoint,
      secret: created.webhook.secret,
      events: [...WEBHOOK_EVENTS],
      name: 'stacklink',
    });
    for (const name of ['writer', 'reader']) system.sim.addUser({ name, token: `${name}-token` });
    system.sim.setRepositoryPermission({
      project: PROJECT,
      repo: REPO,
      user: 'writer',
      permission: 'REPO_WRITE',
    });
    system.sim.setRepositoryPermission({
      project: PROJECT,
      repo: REPO,
      user: 'reader',
      permission: 'REPO_READ',
    });
    const base = { integrationId, repository: { projectKey: PROJECT, slug: REPO } };
    prod = await system.createStack({ ...base, name: 'prod', branch: 'main', projectRoot: 'infra/prod' });
    staging = await system.createStack({
      ...base,
      name: 'secret-staging',
      branch: 'develop',
      projectRoot: 'x',
    });
    const push = await system.sim.push({
      project: PROJECT,
      repo: REPO,
      branch: 'feature',
      files: ['docs/a.md'],
    });
    accepted += push.deliveries.length;
    const pr = await system.sim.openPullRequest({
      project: PROJECT,
      repo: REPO,
      from: 'feature',
      to: 'main',
    });
    accepted += pr.deliveries.length;
    pullRequestId = pr.id;
    sourceCommit = push.commit;
    await waitUntilHandled();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.error(system.tails());
  });

  after(async function () {
    this.timeout(60_000);
    await system?.close();
  });

  async function waitUntilHandled() {
    await waitFor(async () => (await system.eventsHandled()) >= accepted, {
      timeoutMs: 20_000,
      message: `the trigger worker did not handle all ${accepted} accepted events`,
    });
  }

  async function comment(text: string, actor: string): Promise<number> {
    const added = await system.sim.addComment({
      project: PROJECT,
      repo: REPO,
      id: pullRequestId,
      text,
      actor,
    });
    accepted += added.deliveries.length;
    return added.commentId;
  }

  function replyTo(commentId: number): Promise<SimComment> {
    return waitFor(() => system.sim.recorded.comments.find((c) => c.parentId === commentId), {
      timeoutMs: 20_000,
      message: `no reply to comment ${commentId}`,
    });
  }

  async function proposedRuns(stack: Stack): Promise<Run[]> {
    return (await system.runsOf(stack.id)).filter((r) => r.type === 'proposed' && r.commit === sourceCommit);
  }

  it('a user without write permission is told so, and their propose starts nothing', async () => {
    const id = await comment('/stacklink propose prod', 'reader');
    const reply = await replyTo(id);
    expect(reply.text).to.include('@reader').and.include('write permission');
    await waitUntilHandled();
    expect(await proposedRuns(prod)).to.deep.equal([]);
  });

  it('a user with write permission on the repository gets the proposed run', async () => {
    await comment('/stacklink propose prod', 'writer');
    const [run] = await waitFor(
      async () => ((await proposedRuns(prod)).length > 0 ? proposedRuns(prod) : undefined),
      {
        timeoutMs: 20_000,
        message: 'no proposed run for the writer',
      },
    );
    expect(run).to.include({ commit: sourceCommit, type: 'proposed' });
  });

  it('retry leaves a run an operator canceled alone, and says so', async () => {
    const [run] = await proposedRuns(prod);
    await system.call(system.api, 'POST', `/api/v1/runs/${run!.id}/state`, {
      state: 'CANCELED',
      note: 'not this one',
    });
    const id = await comment('/stacklink retry prod', 'writer');
    const reply = await replyTo(id);
    expect(reply.text).to.include('canceled by an operator');
    await waitUntilHandled();
    const [after] = await proposedRuns(prod);
    expect(after).to.include({ id: run!.id, state: 'CANCELED' });
  });

  it('a named stack whose branch is not the target of the pull request is refused with the reason', async () => {
    const id = await comment('/stacklink propose secret-staging', 'writer');
    const reply = await replyTo(id);
    expect(reply.text).to.include('does not track main');
    await waitUntilHandled();
    expect(await system.runsOf(staging.id)).to.deep.equal([]);
  });

  it('an unknown stack name is answered without naming stacks of other branches', async () => {
    const id = await comment('/stacklink propose nope', 'writer');
    const reply = await replyTo(id);
    expect(reply.text).to.include('No stack named `nope`').and.include('`prod`');
    expect(reply.text).to.not.include('secret-staging');
  });

  it('a command deleted before it is handled is skipped, not dead-lettered, and gets no reply', async () => {
    await waitUntilHandled();
    await system.triggers[0]!.stop();
    const added = await system.sim.addComment({
      project: PROJECT,
      repo: REPO,
      id: pullRequestId,
      text: '/stacklink propose prod',
      actor: 'writer',
    });
    system.sim.deleteComment(added.commentId);
    await system.triggers[0]!.start();
    // The restarted worker counts from zero: only this comment's events are left for it.
    accepted = added.deliveries.length;
    await waitUntilHandled();
    const depths = await system.queueDepths();
    const parked = Object.entries(depths).filter(([name, depth]) => name.endsWith('.dlq') && depth > 0);
    expect(parked, JSON.stringify(depths)).to.deep.equal([]);
    expect(system.sim.recorded.comments.some((c) => c.parentId === added.commentId)).to.equal(false);
  });

  it('a tag deleted before its lookup is skipped, and the same push still runs on its branch', async () => {
    const tagged = await system.createStack({
      integrationId,
      repository: { projectKey: PROJECT, slug: REPO },
      name: 'tagged',
      branch: 'main',
      projectRoot: 'rel',
      triggerOnTags: true,
    });
    await waitUntilHandled();
    await system.triggers[0]!.stop();
    const push = await system.sim.pushRefs({
      project: PROJECT,
      repo: REPO,
      changes: [{ branch: 'main', files: ['rel/app.tf'] }, { tag: 'v-gone' }],
    });
    const gone = await system.sim.pushRefs({
      project: PROJECT,
      repo: REPO,
      changes: [{ deleteTag: 'v-gone' }],
    });
    await system.triggers[0]!.start();
    accepted = push.deliveries.length + gone.deliveries.length;
    const run = await waitFor(
      async () => (await system.runsOf(tagged.id)).find((r) => r.ref === 'refs/heads/main'),
      { timeoutMs: 20_000, message: 'no tracked run for the branch of the push' },
    );
    expect(run).to.include({ commit: push.commit, type: 'tracked' });
    await waitUntilHandled();
    const depths = await system.queueDepths();
    const parked = Object.entries(depths).filter(([name, depth]) => name.endsWith('.dlq') && depth > 0);
    expect(parked, JSON.stringify(depths)).to.deep.equal([]);
    expect((await system.runsOf(tagged.id)).map((r) => r.ref)).to.deep.equal(['refs/heads/main']);
  });

  it('stack globs are bounded in length and refused with the field named', async () => {
    const res = await fetch(`${system.api.url}/api/v1/stacks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${system.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        integrationId,
        repository: { projectKey: PROJECT, slug: REPO },
        name: 'long-glob',
        branch: 'main',
        additionalProjectGlobs: ['ok/**', `${'a/'.repeat(150)}**`],
      }),
    });
    expect(res.status).to.equal(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).to.include(
      'additionalProjectGlobs[1]',
    );
  });

  it('an extglob is matched literally, so a push it would have matched starts no run of that stack', async () => {
    const base = { integrationId, repository: { projectKey: PROJECT, slug: REPO }, branch: 'main' };
    const globbed = await system.createStack({
      ...base,
      name: 'globbed',
      projectRoot: 'nothing-here',
      additionalProjectGlobs: ['**/*(*.tf|*.tfvars)'],
    });
    const control = await system.createStack({ ...base, name: 'control', projectRoot: 'mods' });
    const push = await system.sim.push({
      project: PROJECT,
      repo: REPO,
      branch: 'main',
      files: ['mods/a.tf'],
    });
    accepted += push.deliveries.length;
    await waitFor(async () => (await system.runsOf(control.id)).length > 0, {
      timeoutMs: 20_000,
      message: 'the control stack got no run',
    });
    await waitUntilHandled();
    expect(await system.runsOf(globbed.id)).to.deep.equal([]);
  });

  it('a project root is stored normalized, as runners get it', async () => {
    const stack = await system.createStack({
      integrationId,
      repository: { projectKey: PROJECT, slug: REPO },
      name: 'normalized',
      branch: 'main',
      projectRoot: './infra//net/./',
    });
    expect(stack.projectRoot).to.equal('infra/net');
  });

  for (const projectRoot of ['../outside', '/etc', 'infra/../../x'])
    it(`a project root of ${projectRoot} is refused with the field named, on create and on update`, async () => {
      const create = await fetch(`${system.api.url}/api/v1/stacks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${system.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          integrationId,
          repository: { projectKey: PROJECT, slug: REPO },
          name: `root-${projectRoot.length}`,
          branch: 'main',
          projectRoot,
        }),
      });
      expect(create.status).to.equal(400);
      expect(((await create.json()) as { error: { message: string } }).error.message).to.include(
        'projectRoot',
      );
      const update = await fetch(`${system.api.url}/api/v1/stacks/${prod.id}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${system.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ projectRoot }),
      });
      expect(update.status).to.equal(400);
      expect((await system.call<Stack>(system.api, 'GET', `/api/v1/stacks/${prod.id}`)).projectRoot).to.equal(
        'infra/prod',
      );
    });
});
