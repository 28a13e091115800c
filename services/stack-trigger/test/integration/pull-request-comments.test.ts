import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { startSimulator, type BitbucketSimulator } from '@stacklink/bitbucket-simulator';
import { MAX_COMMENT_LENGTH } from '@stacklink/bitbucket';
import { waitFor } from '@stacklink/testing';
import { openSqliteStore } from '../../src/adapters/sqlite/sqlite-store';
import type { Store } from '../../src/adapters/store';
import type { Stack } from '../../src/domain/model';
import type { RunMessage } from '@stacklink/contracts';
import { runUrl } from '../../src/domain/commit-status';
import { pullRequestCommentText } from '../../src/domain/report-pull-request-comment';
import {
  REPORTER_PUBLIC_UI_URL,
  runMessage,
  startReporterHarness,
  type ReporterHarness,
} from '../support/reporter-harness';
import { stackInput } from '../support/events';

const TOKEN = 'bitbucket-token-pr-comments';

/**
 * The reporter's pull-request comments (a stack setting, `prComments`) against the Bitbucket
 * simulator, which keeps every comment with its version: the reporter reads the setting and keeps
 * each run's comment id in the same store the API writes.
 */
describe('pull-request comments of proposed runs (reporter, store, Bitbucket simulator)', function () {
  this.timeout(20_000);
  let sim: BitbucketSimulator;
  let dir: string;
  let store: Store;
  let h: ReporterHarness;
  let pullRequestId: number;
  let commit: string;

  before(async () => {
    sim = await startSimulator();
    sim.addUser({ name: 'stacklink', token: TOKEN, permission: 'admin' });
    sim.addRepository({ project: 'PRJ', slug: 'infra' });
    sim.setWebhookDelivery(undefined);
    commit = (await sim.push({ project: 'PRJ', repo: 'infra', branch: 'feature', files: ['infra/a.tf'] }))
      .commit;
    pullRequestId = (
      await sim.openPullRequest({ project: 'PRJ', repo: 'infra', from: 'feature', to: 'main' })
    ).id;
    dir = mkdtempSync(join(tmpdir(), 'stack-trigger-pr-comments-'));
    const storePath = join(dir, 'stacklink.db');
    store = openSqliteStore(storePath);
    h = await startReporterHarness(
      { 'int-1': { apiHost: sim.url, username: 'stacklink', accessToken: TOKEN } },
      { STORE_URL: `sqlite:${storePath}` },
    );
  });
  after(async () => {
    await h?.close();
    await store?.close();
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const addStack = (prComments: boolean): Promise<Stack> =>
    store.stacks.create(
      stackInput({ name: `stack-${randomUUID().slice(0, 8)}`, projectRoot: 'infra', prComments }),
    );

  const proposed = (
    stack: Stack,
    runId: string,
    version: number,
    state: RunMessage['state'],
    note?: string,
  ) =>
    runMessage({
      runId,
      version,
      state,
      runType: 'proposed',
      commit,
      ref: 'refs/heads/feature',
      pullRequest: { id: pullRequestId, sourceRef: 'refs/heads/feature', targetRef: 'refs/heads/main' },
      ...(note === undefined ? {} : { note }),
      stack: { id: stack.id, name: stack.name, integrationId: 'int-1' },
    });

  /** Waits until the store holds exactly this comment record for the run (the save follows Bitbucket's answer). */
  const storedCommentEquals = (
    runId: string,
    expected: { commentId: number; commentVersion: number; runVersion: number },
  ): Promise<true> =>
    waitFor(
      async () => {
        expect(await store.runComments.get(runId)).to.deep.equal({ runId, ...expected });
        return true as const;
      },
      { message: `the store never held comment ${expected.commentId} at version ${expected.commentVersion}` },
    );

  const statusesOf = (stack: Stack) => sim.recorded.statuses.filter((s) => s.key === `stacklink/${stack.id}`);
  const commentsOf = (runId: string) => sim.recorded.comments.filter((c) => c.text.includes(runId));

  it('creates one comment for the run and edits it in place through QUEUED, RUNNING and FINISHED', async () => {
    const stack = await addStack(true);
    const runId = randomUUID();

    await h.publish(proposed(stack, runId, 1, 'QUEUED'));
    const [created] = await waitFor(() => (commentsOf(runId).length === 1 ? commentsOf(runId) : undefined));
    expect(created!.text).to.contain('**Queued**').and.contain(stack.name);
    expect(created!.pullRequestId).to.equal(pullRequestId);
    expect(created!.version).to.equal(0);

    await h.publish(proposed(stack, runId, 2, 'RUNNING'));
    await waitFor(() => created!.text.includes('**Running**'), { message: 'the comment never said Running' });
    await h.publish(proposed(stack, runId, 3, 'FINISHED'));
    await waitFor(() => created!.text.includes('**Finished**'), {
      message: 'the comment never said Finished',
    });
    await waitFor(() => statusesOf(stack).length === 3);

    expect(commentsOf(runId)).to.have.length(1);
    expect(created!.version).to.equal(2);
    // The reporter saves the comment's version after Bitbucket answered the edit: wait for that write.
    await storedCommentEquals(runId, { commentId: created!.id, commentVersion: 2, runVersion: 3 });
  });

  it('edits the comment again after someone else changed it meanwhile (409 stale version)', async () => {
    const stack = await addStack(true);
    const runId = randomUUID();
    await h.publish(proposed(stack, runId, 1, 'QUEUED'));
    const [comment] = await waitFor(() => (commentsOf(runId).length === 1 ? commentsOf(runId) : undefined));
    // A person edits the comment: the version the reporter kept is now stale.
    comment!.text = `${comment!.text}\n\n(edited by a reviewer)`;
    comment!.version += 1;

    await h.publish(proposed(stack, runId, 2, 'RUNNING'));
    await waitFor(() => comment!.text.includes('**Running**'), { message: 'the stale edit was not retried' });
    expect(commentsOf(runId)).to.have.length(1);
    await storedCommentEquals(runId, { commentId: comment!.id, commentVersion: 2, runVersion: 2 });
  });

  it('finds the comment a reporter created before dying (its id never stored) and edits it, rather than posting a second', async () => {
    const stack = await addStack(true);
    const runId = randomUUID();
    // What the reporter posted for QUEUED before it died: the comment exists, the store knows nothing.
    const queued = proposed(stack, runId, 1, 'QUEUED');
    await sim.addComment({
      project: 'PRJ',
      repo: 'infra',
      id: pullRequestId,
      actor: 'stacklink',
      text: pullRequestCommentText(queued, REPORTER_PUBLIC_UI_URL),
    });
    // A reviewer's newer comment quoting the run's link is not ours, and is left alone.
    const quote = `looks good, see ${runUrl(REPORTER_PUBLIC_UI_URL, stack.id, runId)}`;
    await sim.addComment({ project: 'PRJ', repo: 'infra', id: pullRequestId, text: quote });
    expect(await store.runComments.get(runId)).to.equal(undefined);

    await h.publish(proposed(stack, runId, 2, 'RUNNING'));

    const [comment, reviewers] = commentsOf(runId);
    await waitFor(() => comment!.text.includes('**Running**'), {
      message: 'the earlier comment was not edited',
    });
    expect(commentsOf(runId).map((c) => c.id)).to.deep.equal([comment!.id, reviewers!.id]);
    expect(reviewers).to.include({ text: quote, version: 0 });
    await storedCommentEquals(runId, { commentId: comment!.id, commentVersion: 1, runVersion: 2 });
  });

  it('splits a text over Bitbucket’s limit into the comment and replies to it', async () => {
    const stack = await addStack(true);
    const runId = randomUUID();
    const note = `${'plan output line\n'.repeat(Math.ceil((MAX_COMMENT_LENGTH * 1.5) / 17))}end`;
    await h.publish(proposed(stack, runId, 1, 'FAILED', note));
    const [head] = await waitFor(() => (commentsOf(runId).length === 1 ? commentsOf(runId) : undefined));
    const replies = await waitFor(() => {
      const found = sim.recorded.comments.filter((c) => c.parentId === head!.id);
      return found.length > 0 ? found : undefined;
    });
    expect(head!.text.length).to.be.at.most(MAX_COMMENT_LENGTH);
    expect(replies.every((r) => r.text.length <= MAX_COMMENT_LENGTH)).to.be.true;
    expect(replies.map((r) => r.text).join('')).to.contain('end');
  });

  it('posts no comment for a stack without the setting, only its commit statuses', async () => {
    const stack = await addStack(false);
    const runId = randomUUID();
    await h.publish(proposed(stack, runId, 1, 'QUEUED'));
    await h.publish(proposed(stack, runId, 2, 'RUNNING'));
    await waitFor(() => statusesOf(stack).length === 2);
    expect(commentsOf(runId)).to.deep.equal([]);
    expect(await store.runComments.get(runId)).to.equal(undefined);
  });
});
