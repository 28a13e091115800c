import { expect } from 'chai';
import { createCapturingLogger } from '@stacklink/logger';
import { openSqliteStore } from '../../src/adapters/sqlite/sqlite-store';
import type { Store } from '../../src/adapters/store';
import { createHandleVcsEvent, type HandleVcsEventDeps } from '../../src/domain/handle-vcs-event';
import type { Stack } from '../../src/domain/model';
import type { ChangedFiles } from '../../src/domain/stack-matches-files';
import { commentEvent, files, prEvent, pushEvent, SHA, stackInput } from '../support/events';
import {
  agreeingConfirmation,
  countingMetrics,
  fakeQueue,
  fixedChangedFiles,
  fixedCommentAuthority,
  recordingReplies,
  recordingRunEvents,
} from '../support/fakes';

describe('handleVcsEvent', () => {
  let store: Store;
  let prod: Stack;
  let deps: HandleVcsEventDeps & {
    queue: ReturnType<typeof fakeQueue>;
    runEvents: ReturnType<typeof recordingRunEvents>;
    replies: ReturnType<typeof recordingReplies>;
    metrics: ReturnType<typeof countingMetrics>;
    changedFiles: ReturnType<typeof fixedChangedFiles>;
  };
  let logs: ReturnType<typeof createCapturingLogger>;

  const setup = (changed: ChangedFiles = files('infra/prod/main.tf'), maxRunsPerEvent = 100) => {
    logs = createCapturingLogger();
    deps = {
      stacks: store.stacks,
      runs: store.runs,
      queue: fakeQueue(),
      changedFiles: fixedChangedFiles(changed),
      confirmation: agreeingConfirmation(),
      runEvents: recordingRunEvents(),
      replies: recordingReplies(),
      commentAuthority: fixedCommentAuthority(),
      metrics: countingMetrics(),
      logger: logs.logger,
      maxRunsPerEvent,
    };
    return createHandleVcsEvent(deps);
  };

  /** Makes run.ready fail, as a worker dying right after the dispatch would; answers what to restore. */
  const dieBeforeRunReady = () => {
    const recorded = deps.runEvents;
    deps.runEvents = {
      ...recorded,
      publishRunReady: async () => {
        throw new Error('worker died before announcing the run');
      },
    };
    return recorded;
  };

  beforeEach(async () => {
    store = openSqliteStore(':memory:');
    prod = await store.stacks.create(stackInput());
  });
  afterEach(() => store.close());

  it('creates a tracked run for a push to the stack branch, queues it, announces it and hands it out', async () => {
    const handle = setup();
    const result = await handle(pushEvent({ after: SHA(5) }));
    expect(result.created).to.have.length(1);
    const run = result.created[0]!;
    expect(run).to.include({ stackId: prod.id, type: 'tracked', commit: SHA(5), state: 'QUEUED' });
    expect(deps.changedFiles.calls).to.have.length(1);
    expect(deps.runEvents.stateChanged.map((r) => r.id)).to.deep.equal([run.id]);
    expect(deps.runEvents.ready.map((r) => r.id)).to.deep.equal([run.id]);
    expect(deps.metrics.created).to.equal(1);
  });

  it('creates nothing more when the same event is delivered again', async () => {
    const handle = setup();
    const event = pushEvent();
    await handle(event);
    const again = await handle(event);
    expect(again.created).to.be.empty;
    expect(again.existing).to.have.length(1);
    expect(await store.runs.listByStack(prod.id)).to.have.length(1);
  });

  it('makes one run when a push and a pull request event name the same commit', async () => {
    const handle = setup();
    await handle(pushEvent({ ref: 'refs/heads/feature', after: SHA(10) }));
    const pr = await handle(prEvent('pull_request.opened'));
    expect(pr.created).to.be.empty;
    expect(pr.existing).to.have.length(1);
    const runs = await store.runs.listByStack(prod.id);
    expect(runs).to.have.length(1);
    // The push came first; its run now belongs to the pull request, so a decline or a newer commit cancels it.
    expect(runs[0]!.pullRequest?.id).to.equal(7);
  });

  it('starts no run for a disabled stack, and runs the enabled stack of the same repository', async () => {
    const staging = await store.stacks.create(stackInput({ name: 'staging', projectRoot: 'infra/staging' }));
    await store.stacks.update(prod.id, { enabled: false, disabledReason: 'integration int-1 was deleted' });
    const handle = setup(files('infra/prod/main.tf', 'infra/staging/main.tf'));
    const result = await handle(pushEvent({ after: SHA(6) }));
    expect(result.created.map((r) => r.stackId)).to.deep.equal([staging.id]);
    expect(await store.runs.listByStack(prod.id)).to.be.empty;
  });

  it('does not ask Bitbucket for changed files when the only stack of the repository is disabled', async () => {
    await store.stacks.update(prod.id, { enabled: false });
    const handle = setup();
    const result = await handle(pushEvent());
    expect(result.ignored).to.equal('no stack uses this repository');
    expect(deps.changedFiles.calls).to.be.empty;
    expect(await store.runs.listByStack(prod.id)).to.be.empty;
  });

  it('does not ask Bitbucket for changed files when no stack uses the repository', async () => {
    await store.stacks.delete(prod.id);
    const handle = setup();
    const result = await handle(pushEvent());
    expect(result.ignored).to.equal('no stack uses this repository');
    expect(deps.changedFiles.calls).to.be.empty;
  });

  it('runs a tag on the commit Bitbucket resolves it to when that commit is on the stack branch, asking for the tag once', async () => {
    const tagged = await store.stacks.create(stackInput({ name: 'releases', triggerOnTags: true }));
    const handle = setup();
    deps.confirmation = agreeingConfirmation({
      tag: async () => ({ commit: SHA(71), object: SHA(70) }),
      branchesContaining: async (_event, commit) =>
        commit === SHA(71) ? [{ ref: 'refs/heads/main', head: SHA(72) }] : undefined,
    });
    deps.changedFiles = fixedChangedFiles(files('infra/prod/main.tf'));
    const result = await handle(
      pushEvent({ ref: 'refs/tags/v1', refType: 'tag', action: 'created', before: null, after: SHA(70) }),
    );
    expect(result.created.map((r) => [r.stackId, r.commit])).to.deep.equal([[tagged.id, SHA(71)]]);
    expect(deps.changedFiles.calls).to.have.length(1);
  });

  it('skips a tag whose commit is not on the stack branch as tag-off-branch, and counts it', async () => {
    const tagged = await store.stacks.create(stackInput({ name: 'releases', triggerOnTags: true }));
    const handle = setup();
    deps.confirmation = agreeingConfirmation({
      tag: async () => ({ commit: SHA(71) }),
      branchesContaining: async () => [{ ref: 'refs/heads/experiment', head: SHA(72) }],
    });
    const result = await handle(
      pushEvent({ ref: 'refs/tags/v1', refType: 'tag', action: 'created', before: null, after: SHA(71) }),
    );
    expect(result.created).to.be.empty;
    expect(result.skipped).to.deep.include({
      stackId: tagged.id,
      reason: 'tag-off-branch',
      detail: `tag refs/tags/v1 names commit ${SHA(71).slice(0, 12)}, which is not on refs/heads/main`,
    });
    expect(deps.metrics.unconfirmedByReason).to.deep.equal({ 'tag-off-branch': 1 });
  });

  it('refuses a push whose branch Bitbucket does not show holding the commit: no run, no changed-files lookup, a warning with the event id', async () => {
    const handle = setup();
    deps.confirmation = agreeingConfirmation({
      branchesContaining: async () => [{ ref: 'refs/heads/feature', head: SHA(9) }],
    });
    const event = pushEvent({ after: SHA(9) });
    const result = await handle(event);
    expect(result.created).to.be.empty;
    expect(result.skipped).to.deep.equal([
      {
        stackId: prod.id,
        reason: 'refused',
        detail: `Bitbucket does not show commit ${SHA(9).slice(0, 12)} on refs/heads/main (branches containing it: refs/heads/feature)`,
      },
    ]);
    expect(deps.changedFiles.calls).to.be.empty;
    expect(deps.metrics.unconfirmedByReason).to.deep.equal({ refused: 1 });
    const warning = logs.lines.find((l) => l.message === 'Bitbucket contradicts the delivery: refused');
    expect(warning).to.include({ eventId: event.id, level: 'warn' });
  });

  it('refuses a push of a commit Bitbucket does not know', async () => {
    const handle = setup();
    deps.confirmation = agreeingConfirmation({ branchesContaining: async () => undefined });
    const result = await handle(pushEvent({ after: SHA(9) }));
    expect(result.created).to.be.empty;
    expect(result.skipped[0]).to.include({ reason: 'refused' });
    expect(result.skipped[0]!.detail).to.match(/does not know commit/);
  });

  it("records a push older than the stack's latest tracked run as superseded, not run", async () => {
    const handle = setup();
    await handle(pushEvent({ before: SHA(2), after: SHA(3) }));
    deps.confirmation = agreeingConfirmation({
      branchesContaining: async () => [{ ref: 'refs/heads/main', head: SHA(3) }],
      isAncestor: async (_event, commit, descendant) => commit === SHA(2) && descendant === SHA(3),
    });
    const result = await handle(pushEvent({ before: SHA(1), after: SHA(2) }));
    expect(result.created).to.be.empty;
    expect(result.skipped).to.deep.equal([
      {
        stackId: prod.id,
        reason: 'superseded',
        detail: `commit ${SHA(2).slice(0, 12)} is older than ${SHA(3).slice(0, 12)} on refs/heads/main, which already has a tracked run`,
      },
    ]);
    expect((await store.runs.listByStack(prod.id)).map((r) => r.commit)).to.deep.equal([SHA(3)]);
  });

  it('asks Bitbucket one question per push when the pushed commit is still the branch head', async () => {
    const handle = setup();
    await handle(pushEvent({ before: SHA(2), after: SHA(3) }));
    const confirmation = agreeingConfirmation();
    deps.confirmation = confirmation;
    const result = await handle(pushEvent({ before: SHA(3), after: SHA(4) }));
    expect(result.created.map((r) => r.commit)).to.deep.equal([SHA(4)]);
    expect(confirmation.asked).to.deep.equal([`branches ${SHA(4)}`]);
  });

  it('refuses a replayed source update that Bitbucket contradicts: it cancels nothing', async () => {
    const handle = setup();
    await handle(
      prEvent('pull_request.source_updated', {
        source: {
          ref: 'refs/heads/feature',
          commit: SHA(8),
          repository: { projectKey: 'PRJ', slug: 'infra' },
        },
      }),
    );
    deps.confirmation = agreeingConfirmation({
      pullRequest: async (event) => ({
        state: 'open',
        source: { ...event.pullRequest.source, commit: SHA(8) },
        target: event.pullRequest.target,
      }),
    });
    const replay = prEvent('pull_request.source_updated', {
      source: { ref: 'refs/heads/feature', commit: SHA(7), repository: { projectKey: 'PRJ', slug: 'infra' } },
    });
    const result = await handle(replay);
    expect(result.created).to.be.empty;
    expect(result.canceled).to.be.empty;
    expect(result.skipped[0]).to.include({ reason: 'refused' });
    expect((await store.runs.listByStack(prod.id)).map((r) => [r.commit, r.state])).to.deep.equal([
      [SHA(8), 'QUEUED'],
    ]);
  });

  it('does not ask Bitbucket for changed files for events that cannot start a run', async () => {
    const handle = setup();
    await handle(pushEvent({ action: 'deleted', after: null }));
    await handle(prEvent('pull_request.merged', { state: 'merged' }));
    expect(deps.changedFiles.calls).to.be.empty;
  });

  it('cancels the queued proposed runs of a pull request when a newer commit arrives, and announces it', async () => {
    const handle = setup();
    const first = (await handle(prEvent('pull_request.opened'))).created[0]!;
    const source = {
      ref: 'refs/heads/feature',
      commit: SHA(11),
      repository: { projectKey: 'PRJ', slug: 'infra' },
    };
    const second = await handle(
      prEvent('pull_request.source_updated', { source, previousSourceCommit: SHA(10) }),
    );
    expect(second.canceled.map((r) => r.id)).to.deep.equal([first.id]);
    expect(second.created.map((r) => r.commit)).to.deep.equal([SHA(11)]);
    expect((await store.runs.get(first.id))!.state).to.equal('CANCELED');
    expect(deps.queue.queued.has(first.id) || deps.queue.leased.has(first.id)).to.be.false;
    expect(deps.runEvents.stateChanged.filter((r) => r.id === first.id).map((r) => r.state)).to.deep.equal([
      'QUEUED',
      'CANCELED',
    ]);
    expect(deps.metrics.canceled).to.equal(1);
  });

  it('announces a cancellation again on redelivery when the worker died before announcing it', async () => {
    const handle = setup();
    const first = (await handle(prEvent('pull_request.opened'))).created[0]!;
    const declined = prEvent('pull_request.declined');
    const recorded = deps.runEvents;
    deps.runEvents = {
      ...recorded,
      publishStateChanged: async () => {
        throw new Error('worker died before announcing the cancellation');
      },
    };
    let crashed = false;
    await handle(declined).catch(() => (crashed = true));
    expect(crashed).to.be.true;
    expect((await store.runs.get(first.id))!.state, 'the store already has it canceled').to.equal('CANCELED');

    deps.runEvents = recorded;
    const redelivered = await handle(declined);

    expect(redelivered.canceled.map((r) => r.id)).to.deep.equal([first.id]);
    const announced = deps.runEvents.stateChanged.filter((r) => r.id === first.id);
    expect(announced.map((r) => r.state)).to.deep.equal(['QUEUED', 'CANCELED']);
    expect(announced[1]!.version).to.equal(2);
    expect(deps.queue.queued.has(first.id) || deps.queue.leased.has(first.id)).to.be.false;
  });

  it('leaves a running proposed run alone when the pull request is declined', async () => {
    const handle = setup();
    const run = (await handle(prEvent('pull_request.opened'))).created[0]!;
    await store.runs.transition(run.id, ['QUEUED'], 'RUNNING');
    const result = await handle(prEvent('pull_request.declined', { state: 'declined' }));
    expect(result.canceled).to.be.empty;
    expect((await store.runs.get(run.id))!.state).to.equal('RUNNING');
  });

  it('reports the runs over the cap: returned, logged and counted', async () => {
    for (const n of [1, 2, 3]) await store.stacks.create(stackInput({ name: `s${n}` }));
    const handle = setup(files('infra/prod/a.tf'), 2);
    const result = await handle(pushEvent());
    expect(result.created).to.have.length(2);
    expect(result.overCap).to.have.length(2);
    expect(deps.metrics.overCap).to.equal(2);
    const warning = logs.lines.find((l) => l.message === 'runs over the per-event cap were not created');
    expect(warning).to.include({ cap: 2, overCap: 2, level: 'warn' });
  });

  it('posts the help text as a reply to an unknown command, on the commented pull request', async () => {
    const handle = setup();
    const result = await handle(commentEvent('/stacklink apply'));
    expect(deps.replies.replies).to.have.length(1);
    expect(deps.replies.replies[0]).to.include({
      integrationId: 'int-1',
      pullRequestId: 7,
      parentCommentId: 99,
    });
    expect(deps.replies.replies[0]!.text).to.include('/stacklink propose [stack]');
    expect(result.created).to.be.empty;
  });

  it('proposes a run for the named stack on /stacklink propose', async () => {
    const handle = setup(files('README.md'));
    const result = await handle(commentEvent('/stacklink propose prod'));
    expect(result.created).to.have.length(1);
    expect(result.created[0]!.trigger).to.include({ kind: 'comment' });
    expect(deps.changedFiles.calls).to.be.empty;
    expect(deps.replies.replies).to.be.empty;
  });

  it('puts a failed proposed run back in the queue on /stacklink retry', async () => {
    const handle = setup();
    const run = (await handle(prEvent('pull_request.opened'))).created[0]!;
    await store.runs.transition(run.id, ['QUEUED'], 'RUNNING');
    await store.runs.transition(run.id, ['RUNNING'], 'FAILED');
    await deps.queue.remove(run);
    const result = await handle(commentEvent('/stacklink retry'));
    expect(result.retried.map((r) => r.id)).to.deep.equal([run.id]);
    const retried = (await store.runs.get(run.id))!;
    expect(retried).to.include({ state: 'QUEUED', version: 4 });
    expect(deps.runEvents.ready.filter((r) => r.id === run.id)).to.have.length(2);
  });

  it('finishes a /stacklink retry on redelivery when the worker died after moving the run back to QUEUED', async () => {
    const handle = setup();
    const run = (await handle(prEvent('pull_request.opened'))).created[0]!;
    await store.runs.transition(run.id, ['QUEUED'], 'RUNNING');
    await store.runs.transition(run.id, ['RUNNING'], 'FAILED');
    await deps.queue.remove(run);
    const retry = commentEvent('/stacklink retry');
    const queue = deps.queue;
    deps.queue = {
      ...queue,
      enqueue: async () => {
        throw new Error('worker died before queueing the retried run');
      },
    };
    expect(
      await handle(retry).then(
        () => 'handled',
        () => 'crashed',
      ),
    ).to.equal('crashed');
    expect((await store.runs.get(run.id))!.state, 'the store already has it QUEUED').to.equal('QUEUED');

    deps.queue = queue;
    const redelivered = await handle(retry);

    expect(redelivered.retried.map((r) => r.id)).to.deep.equal([run.id]);
    expect(deps.queue.queued.has(run.id) || deps.queue.leased.has(run.id), 'queued at last').to.be.true;
    expect(deps.runEvents.ready.filter((r) => r.id === run.id)).to.have.length(2);
    expect(deps.replies.replies, 'no "nothing to retry" reply').to.deep.equal([]);
  });

  it('creates the proposed run on /stacklink retry when there was none', async () => {
    const handle = setup();
    const result = await handle(commentEvent('/stacklink retry prod'));
    expect(result.created).to.have.length(1);
  });

  it('replies that there is nothing to retry when the run is still queued', async () => {
    const handle = setup();
    await handle(prEvent('pull_request.opened'));
    const result = await handle(commentEvent('/stacklink retry prod'));
    expect(result.retried).to.be.empty;
    expect(result.replied).to.match(/^Nothing to retry/);
  });

  it('announces run.ready again on redelivery when the worker died after handing the run out', async () => {
    const handle = setup();
    const event = pushEvent({ after: SHA(31) });
    // The first attempt dies between the dispatch (the run is handed out, leased) and run.ready.
    const recorded = dieBeforeRunReady();
    await handle(event).then(
      () => expect.fail('the first attempt should have failed'),
      () => undefined,
    );
    const [run] = await store.runs.listByStack(prod.id);
    expect(deps.queue.leased.has(run!.id)).to.be.true;
    expect(deps.runEvents.ready).to.be.empty;

    deps.runEvents = recorded;
    const again = await handle(event);
    expect(again.existing.map((r) => r.id)).to.deep.equal([run!.id]);
    expect(deps.runEvents.ready.map((r) => r.id)).to.deep.equal([run!.id]);
  });

  it('announces only the handed-out tracked run again on redelivery, never the one waiting behind it', async () => {
    const handle = setup();
    const first = pushEvent({ after: SHA(41) });
    const recorded = dieBeforeRunReady();
    await handle(first).catch(() => undefined);
    deps.runEvents = recorded;
    const t2 = (await handle(pushEvent({ before: SHA(41), after: SHA(42) }))).created[0]!;
    expect(deps.runEvents.ready).to.be.empty;

    await handle(first);
    const t1 = (await store.runs.find(prod.id, SHA(41), 'tracked'))!;
    expect(deps.runEvents.ready.map((r) => r.id)).to.deep.equal([t1.id]);
    expect(deps.queue.queued.has(t2.id)).to.be.true;
    expect(deps.queue.leased.has(t2.id)).to.be.false;
  });

  it('hands out one tracked run at a time per stack, proposed runs alongside', async () => {
    const handle = setup();
    const t1 = (await handle(pushEvent({ after: SHA(21) }))).created[0]!;
    const t2 = (await handle(pushEvent({ after: SHA(22) }))).created[0]!;
    const p1 = (await handle(prEvent('pull_request.opened'))).created[0]!;
    expect(deps.runEvents.ready.map((r) => r.id)).to.deep.equal([t1.id, p1.id]);
    expect(deps.queue.queued.has(t2.id)).to.be.true;
  });

  it('cancels, and does not hand out, the run of a stack disabled after the worker read it as enabled', async () => {
    const handle = setup();
    // The stack is disabled while the worker asks Bitbucket what the push changed: after it listed the
    // stacks, before it creates the run. Disabling then finds no queued run to cancel.
    const lookUp = deps.changedFiles.pushChanges.bind(deps.changedFiles);
    deps.changedFiles.pushChanges = async (event, changes) => {
      await store.stacks.update(prod.id, { enabled: false, disabledReason: 'integration deleted' });
      expect(await store.runs.cancelQueued({ stackId: prod.id, note: 'stack disabled' })).to.be.empty;
      return lookUp(event, changes);
    };

    const result = await handle(pushEvent({ after: SHA(31) }));

    const run = result.created[0]!;
    expect(result.canceled.map((r) => r.id)).to.deep.equal([run.id]);
    expect(await store.runs.get(run.id)).to.include({
      state: 'CANCELED',
      note: 'stack disabled: integration deleted',
    });
    expect(deps.runEvents.ready).to.be.empty;
    expect(deps.queue.queued.has(run.id) || deps.queue.leased.has(run.id)).to.be.false;
    // QUEUED, then CANCELED: the reporter posts both.
    expect(deps.runEvents.stateChanged.map((r) => [r.id, r.state])).to.deep.equal([
      [run.id, 'QUEUED'],
      [run.id, 'CANCELED'],
    ]);
  });
});
