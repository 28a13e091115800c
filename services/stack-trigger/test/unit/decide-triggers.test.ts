import { expect } from 'chai';
import { decideTriggers, needsChangedFiles, pushChangesToLookUp } from '../../src/domain/decide-triggers';
import { COMMAND_HELP } from '../../src/domain/parse-comment-command';
import {
  commentEvent,
  files,
  prEvent,
  pushEvent,
  pushInput,
  reviewEvent,
  SHA,
  stack,
} from '../support/events';

const prod = stack({ id: 'stack-a', name: 'prod', projectRoot: 'infra/prod' });
const staging = stack({
  id: 'stack-b',
  name: 'staging',
  projectRoot: 'infra/staging',
  branch: 'refs/heads/develop',
});
const fork = { projectKey: '~alice', slug: 'infra' };
const WRITER = { kind: 'writer', name: 'alice' } as const;

describe('decideTriggers', () => {
  describe('push', () => {
    it('starts a tracked run on the new commit when the stack branch changes files under the project root', () => {
      const d = decideTriggers(
        pushInput({
          event: pushEvent({ after: SHA(5) }),
          stacks: [prod],
          changedFiles: files('infra/prod/main.tf'),
        }),
      );
      expect(d.runs).to.have.length(1);
      expect(d.runs[0]).to.include({
        stackId: 'stack-a',
        type: 'tracked',
        commit: SHA(5),
        ref: 'refs/heads/main',
      });
      expect(d.runs[0]!.trigger).to.include({ kind: 'push' });
    });

    it('matches a stack branch configured as a full ref name', () => {
      const d = decideTriggers(
        pushInput({
          event: pushEvent({ ref: 'refs/heads/develop' }),
          stacks: [staging],
          changedFiles: files('infra/staging/a.tf'),
        }),
      );
      expect(d.runs.map((r) => r.type)).to.deep.equal(['tracked']);
    });

    it('starts a proposed run when another branch touches the stack', () => {
      const d = decideTriggers(
        pushInput({
          event: pushEvent({ ref: 'refs/heads/feature/x' }),
          stacks: [prod],
          changedFiles: files('infra/prod/main.tf'),
        }),
      );
      expect(d.runs).to.have.length(1);
      expect(d.runs[0]).to.include({ type: 'proposed', ref: 'refs/heads/feature/x' });
    });

    it('starts a run when only an additional project glob matches', () => {
      const s = stack({ additionalProjectGlobs: ['modules/**'] });
      const d = decideTriggers(
        pushInput({
          event: pushEvent(),
          stacks: [s],
          changedFiles: files('modules/vpc/main.tf'),
        }),
      );
      expect(d.runs).to.have.length(1);
    });

    it('starts nothing when the push does not touch the stack, and says why', () => {
      const d = decideTriggers(
        pushInput({ event: pushEvent(), stacks: [prod], changedFiles: files('docs/readme.md') }),
      );
      expect(d.runs).to.be.empty;
      expect(d.skipped).to.deep.equal([
        {
          stackId: 'stack-a',
          reason: 'files-untouched',
          detail: 'refs/heads/main: no file under infra/prod changed; changed: docs/readme.md',
        },
      ]);
    });

    it('treats the stack as touched when the changed-file list was truncated', () => {
      const d = decideTriggers(
        pushInput({
          event: pushEvent(),
          stacks: [prod],
          changedFiles: { paths: ['docs/a.md'], truncated: true },
        }),
      );
      expect(d.runs).to.have.length(1);
    });

    it('starts nothing for a deleted branch, even the stack branch', () => {
      const event = pushEvent({ action: 'deleted', after: null });
      expect(needsChangedFiles(event, [prod])).to.be.false;
      const d = decideTriggers(
        pushInput({ event, stacks: [prod], changedFiles: { paths: [], truncated: true } }),
      );
      expect(d.runs).to.be.empty;
      expect(d.cancel).to.be.empty;
    });

    it('starts a tracked run for a created stack branch', () => {
      const d = decideTriggers(
        pushInput({
          event: pushEvent({ action: 'created', before: null, after: SHA(3) }),
          stacks: [prod],
          changedFiles: { paths: [], truncated: true },
        }),
      );
      expect(d.runs.map((r) => [r.type, r.commit])).to.deep.equal([['tracked', SHA(3)]]);
    });

    it('starts nothing for a tag unless the stack triggers on tags', () => {
      const event = pushEvent({
        ref: 'refs/tags/v1.0',
        refType: 'tag',
        action: 'created',
        before: null,
        after: SHA(4),
      });
      expect(needsChangedFiles(event, [prod])).to.be.false;
      const d = decideTriggers(
        pushInput({ event, stacks: [prod], changedFiles: { paths: [], truncated: true } }),
      );
      expect(d.runs).to.be.empty;
      expect(d.skipped[0]).to.include({ reason: 'tags-off' });
      expect(d.skipped[0]!.detail).to.match(/does not trigger on tags/);
    });

    it('starts a tracked run for a tag when the stack triggers on tags', () => {
      const s = stack({ triggerOnTags: true });
      const event = pushEvent({
        ref: 'refs/tags/v1.0',
        refType: 'tag',
        action: 'created',
        before: null,
        after: SHA(4),
      });
      expect(needsChangedFiles(event, [s])).to.be.true;
      const d = decideTriggers(
        pushInput({ event, stacks: [s], changedFiles: { paths: [], truncated: true } }),
      );
      expect(d.runs.map((r) => [r.type, r.commit, r.ref])).to.deep.equal([
        ['tracked', SHA(4), 'refs/tags/v1.0'],
      ]);
    });

    it('starts nothing for a deleted tag even when the stack triggers on tags', () => {
      const s = stack({ triggerOnTags: true });
      const event = pushEvent({ ref: 'refs/tags/v1.0', refType: 'tag', action: 'deleted', after: null });
      expect(
        decideTriggers(pushInput({ event, stacks: [s], changedFiles: { paths: [], truncated: true } })).runs,
      ).to.be.empty;
    });

    it('starts nothing for a push without ref changes', () => {
      const d = decideTriggers(pushInput({ event: pushEvent(), stacks: [prod] }));
      const empty = pushEvent();
      empty.push.changes = [];
      const e = decideTriggers(pushInput({ event: empty, stacks: [prod] }));
      expect(d.runs).to.have.length(1);
      expect(e.runs).to.be.empty;
      expect(e.ignored).to.equal('push without ref changes');
    });

    it('decides for every stack of the repository independently', () => {
      const d = decideTriggers(
        pushInput({
          event: pushEvent({ ref: 'refs/heads/develop' }),
          stacks: [prod, staging],
          changedFiles: files('infra/prod/a.tf', 'infra/staging/b.tf'),
        }),
      );
      expect(d.runs.map((r) => [r.stackId, r.type])).to.deep.equal([
        ['stack-a', 'proposed'],
        ['stack-b', 'tracked'],
      ]);
    });

    it('plans one run per stack, commit and type even when two refs point at the same commit', () => {
      const d = decideTriggers(
        pushInput({
          event: pushEvent({ ref: 'refs/heads/a', after: SHA(9) }, { ref: 'refs/heads/b', after: SHA(9) }),
          stacks: [prod],
          changedFiles: files('infra/prod/x.tf'),
        }),
      );
      expect(d.runs).to.have.length(1);
    });

    it("matches each ref against its own files: a feature branch's files start no tracked run on main", () => {
      const event = pushEvent(
        { ref: 'refs/heads/main', after: SHA(51) },
        { ref: 'refs/heads/feature', action: 'created', before: null, after: SHA(52) },
        { ref: 'refs/tags/v2', refType: 'tag', action: 'created', before: null, after: SHA(51) },
      );
      expect(pushChangesToLookUp(event, [prod]).map((c) => c.ref)).to.deep.equal([
        'refs/heads/main',
        'refs/heads/feature',
      ]);
      const d = decideTriggers({
        event,
        stacks: [prod],
        refChanges: [
          { ref: 'refs/heads/main', commit: SHA(51), files: files('docs/readme.md') },
          { ref: 'refs/heads/feature', commit: SHA(52), files: files('infra/prod/main.tf') },
        ],
      });
      expect(d.runs.map((r) => [r.type, r.commit, r.ref])).to.deep.equal([
        ['proposed', SHA(52), 'refs/heads/feature'],
      ]);
      expect(d.skipped).to.deep.include({
        stackId: 'stack-a',
        reason: 'files-untouched',
        detail: 'refs/heads/main: no file under infra/prod changed; changed: docs/readme.md',
      });
    });

    it('starts the run of an annotated tag on the commit the tag resolved to, not on the tag object', () => {
      const s = stack({ triggerOnTags: true });
      const event = pushEvent({
        ref: 'refs/tags/v1.0',
        refType: 'tag',
        action: 'created',
        before: null,
        after: SHA(60),
      });
      const d = decideTriggers({
        event,
        stacks: [s],
        refChanges: [{ ref: 'refs/tags/v1.0', commit: SHA(61), files: files('infra/prod/a.tf') }],
      });
      expect(d.runs.map((r) => [r.type, r.commit, r.ref])).to.deep.equal([
        ['tracked', SHA(61), 'refs/tags/v1.0'],
      ]);
    });

    it('counts an unknown changed-file list as touching the stack', () => {
      expect(decideTriggers(pushInput({ event: pushEvent(), stacks: [prod] })).runs).to.have.length(1);
    });
  });

  describe('pull requests', () => {
    it('starts a proposed run on the source commit when a pull request onto the stack branch is opened', () => {
      const d = decideTriggers({
        event: prEvent('pull_request.opened'),
        stacks: [prod],
        changedFiles: files('infra/prod/a.tf'),
      });
      expect(d.runs).to.have.length(1);
      expect(d.runs[0]).to.deep.include({
        stackId: 'stack-a',
        type: 'proposed',
        commit: SHA(10),
        ref: 'refs/heads/feature',
        pullRequest: { id: 7, sourceRef: 'refs/heads/feature', targetRef: 'refs/heads/main' },
      });
      expect(d.runs[0]!.trigger.kind).to.equal('pull_request');
      expect(d.cancel).to.be.empty;
    });

    it('starts nothing when the pull request targets another branch', () => {
      const event = prEvent('pull_request.opened', {
        target: {
          ref: 'refs/heads/release',
          commit: SHA(2),
          repository: { projectKey: 'PRJ', slug: 'infra' },
        },
      });
      expect(needsChangedFiles(event, [prod])).to.be.false;
      const d = decideTriggers({ event, stacks: [prod], changedFiles: files('infra/prod/a.tf') });
      expect(d.runs).to.be.empty;
    });

    it('starts nothing when the pull request does not touch the stack, and names the files it changed', () => {
      const event = prEvent('pull_request.opened');
      const d = decideTriggers({ event, stacks: [prod], changedFiles: files('README.md') });
      expect(d.runs).to.be.empty;
      expect(d.skipped).to.deep.equal([
        {
          stackId: 'stack-a',
          reason: 'files-untouched',
          detail: `pull request #${event.pullRequest.id}: no file under infra/prod changed; changed: README.md`,
        },
      ]);
    });

    it('treats a truncated pull request change list as touching the stack', () => {
      const d = decideTriggers({
        event: prEvent('pull_request.opened'),
        stacks: [prod],
        changedFiles: { paths: [], truncated: true },
      });
      expect(d.runs).to.have.length(1);
    });

    it('starts a proposed run on the new commit and cancels the older queued ones when the source is updated', () => {
      const event = prEvent('pull_request.source_updated', {
        previousSourceCommit: SHA(10),
        source: {
          ref: 'refs/heads/feature',
          commit: SHA(11),
          repository: { projectKey: 'PRJ', slug: 'infra' },
        },
      });
      const d = decideTriggers({ event, stacks: [prod, staging], changedFiles: files('infra/prod/a.tf') });
      expect(d.runs.map((r) => r.commit)).to.deep.equal([SHA(11)]);
      expect(d.cancel).to.deep.equal([
        {
          pullRequestId: 7,
          stackIds: ['stack-a', 'stack-b'],
          exceptCommit: SHA(11),
          reason: `superseded by commit ${SHA(11)}`,
        },
      ]);
    });

    it('still cancels the superseded runs when the new commit no longer touches the stack', () => {
      const event = prEvent('pull_request.source_updated', { previousSourceCommit: SHA(10) });
      const d = decideTriggers({ event, stacks: [prod], changedFiles: files('README.md') });
      expect(d.runs).to.be.empty;
      expect(d.cancel).to.have.length(1);
    });

    it('starts a proposed run when a pull request is retargeted onto the stack branch', () => {
      const event = prEvent('pull_request.modified', {
        previousTarget: { ref: 'refs/heads/release', commit: SHA(20) },
      });
      const d = decideTriggers({ event, stacks: [prod], changedFiles: files('infra/prod/a.tf') });
      expect(d.runs.map((r) => r.type)).to.deep.equal(['proposed']);
    });

    it('cancels the queued proposed runs of stacks a retargeted pull request left', () => {
      const event = prEvent('pull_request.modified', {
        previousTarget: { ref: 'refs/heads/main', commit: SHA(20) },
        target: {
          ref: 'refs/heads/develop',
          commit: SHA(21),
          repository: { projectKey: 'PRJ', slug: 'infra' },
        },
      });
      const d = decideTriggers({ event, stacks: [prod, staging], changedFiles: files('infra/prod/a.tf') });
      expect(d.runs).to.be.empty;
      expect(d.cancel).to.deep.equal([
        { pullRequestId: 7, stackIds: ['stack-a'], reason: 'pull request retargeted to refs/heads/develop' },
      ]);
    });

    it('starts nothing when a pull request is modified without a new target (title, description)', () => {
      const event = prEvent('pull_request.modified', {
        previousTarget: { ref: 'refs/heads/main', commit: SHA(2) },
      });
      expect(needsChangedFiles(event, [prod])).to.be.false;
      const d = decideTriggers({ event, stacks: [prod], changedFiles: files('infra/prod/a.tf') });
      expect(d.runs).to.be.empty;
      expect(d.cancel).to.be.empty;
      expect(d.ignored).to.equal('pull request modified without a new target');
    });

    it('starts nothing for a pull request from a fork unless the stack allows forks', () => {
      const source = { ref: 'refs/heads/feature', commit: SHA(10), repository: fork };
      const event = prEvent('pull_request.opened', { source });
      const open = stack({ id: 'stack-c', allowForks: true });
      const d = decideTriggers({ event, stacks: [prod, open], changedFiles: files('infra/prod/a.tf') });
      expect(d.runs.map((r) => r.stackId)).to.deep.equal(['stack-c']);
      expect(d.skipped).to.deep.include({
        stackId: 'stack-a',
        reason: 'fork-not-allowed',
        detail: 'pull request from a fork',
      });
    });

    it('does not treat a different case of the same project key as a fork', () => {
      const source = {
        ref: 'refs/heads/feature',
        commit: SHA(10),
        repository: { projectKey: 'prj', slug: 'infra' },
      };
      const d = decideTriggers({
        event: prEvent('pull_request.opened', { source }),
        stacks: [prod],
        changedFiles: files('infra/prod/a'),
      });
      expect(d.runs).to.have.length(1);
    });

    for (const type of ['pull_request.declined', 'pull_request.deleted'] as const) {
      it(`cancels the pull request's queued proposed runs when it is ${type.split('.')[1]}`, () => {
        const d = decideTriggers({ event: prEvent(type, { state: 'declined' }), stacks: [prod, staging] });
        expect(d.runs).to.be.empty;
        expect(d.cancel).to.have.length(1);
        expect(d.cancel[0]).to.include({ pullRequestId: 7 });
        expect(d.cancel[0]!.stackIds).to.deep.equal(['stack-a', 'stack-b']);
        expect(d.cancel[0]!.exceptCommit).to.be.undefined;
      });
    }

    it('starts and cancels nothing when a pull request is merged: the push does the work', () => {
      const event = prEvent('pull_request.merged', { state: 'merged' });
      expect(needsChangedFiles(event, [prod])).to.be.false;
      const d = decideTriggers({ event, stacks: [prod] });
      expect(d.runs).to.be.empty;
      expect(d.cancel).to.be.empty;
      expect(d.ignored).to.match(/merge/);
    });

    for (const type of [
      'pull_request.reviewer_approved',
      'pull_request.reviewer_unapproved',
      'pull_request.reviewer_needs_work',
    ] as const) {
      it(`records ${type} and starts nothing`, () => {
        const event = reviewEvent(type);
        expect(needsChangedFiles(event, [prod])).to.be.false;
        const d = decideTriggers({ event, stacks: [prod] });
        expect(d.runs).to.be.empty;
        expect(d.cancel).to.be.empty;
        expect(d.ignored).to.match(/^review recorded/);
      });
    }
  });

  describe('comment commands', () => {
    it('ignores a comment that is not a command', () => {
      const d = decideTriggers({ commenter: WRITER, event: commentEvent('Looks good'), stacks: [prod] });
      expect(d).to.deep.include({ runs: [], retry: [], ignored: 'comment is not a command' });
      expect(d.reply).to.be.undefined;
    });

    it('proposes a run for the named stack on the source commit even when the files do not touch it', () => {
      const event = commentEvent('/stacklink propose prod');
      expect(needsChangedFiles(event, [prod])).to.be.false;
      const d = decideTriggers({ commenter: WRITER, event, stacks: [prod, staging] });
      expect(d.runs).to.have.length(1);
      expect(d.runs[0]).to.include({ stackId: 'stack-a', type: 'proposed', commit: SHA(10) });
      expect(d.runs[0]!.trigger.kind).to.equal('comment');
      expect(d.reply).to.be.undefined;
    });

    it('finds the named stack by id or by name in any case', () => {
      expect(
        decideTriggers({
          commenter: WRITER,
          event: commentEvent('/stacklink propose stack-a'),
          stacks: [prod],
        }).runs,
      ).to.have.length(1);
      expect(
        decideTriggers({ commenter: WRITER, event: commentEvent('/stacklink propose PROD'), stacks: [prod] })
          .runs,
      ).to.have.length(1);
    });

    it('proposes runs for the touched stacks of the target branch when no stack is named', () => {
      const event = commentEvent('/stacklink propose');
      const other = stack({ id: 'stack-d', name: 'dev', projectRoot: 'infra/dev' });
      expect(needsChangedFiles(event, [prod])).to.be.true;
      const d = decideTriggers({
        commenter: WRITER,
        event,
        stacks: [prod, other, staging],
        changedFiles: files('infra/prod/a.tf'),
      });
      expect(d.runs.map((r) => r.stackId)).to.deep.equal(['stack-a']);
    });

    it('replies when nothing is touched by an unnamed propose', () => {
      const d = decideTriggers({
        commenter: WRITER,
        event: commentEvent('/stacklink propose'),
        stacks: [prod],
        changedFiles: files('README.md'),
      });
      expect(d.runs).to.be.empty;
      expect(d.reply).to.match(/^Nothing to propose/);
    });

    it('plans a retry of the named stack on the source commit', () => {
      const d = decideTriggers({
        commenter: WRITER,
        event: commentEvent('/stacklink retry prod'),
        stacks: [prod],
      });
      expect(d.runs).to.be.empty;
      expect(d.retry).to.have.length(1);
      expect(d.retry[0]!.run).to.include({ stackId: 'stack-a', type: 'proposed', commit: SHA(10) });
    });

    it('plans a retry for every stack of the target branch when no stack is named', () => {
      const d = decideTriggers({
        commenter: WRITER,
        event: commentEvent('/stacklink retry'),
        stacks: [prod, staging],
      });
      expect(d.retry.map((r) => r.run.stackId)).to.deep.equal(['stack-a']);
    });

    it('replies with the list of commands after an unknown command', () => {
      const d = decideTriggers({
        commenter: WRITER,
        event: commentEvent('/stacklink destroy everything'),
        stacks: [prod],
      });
      expect(d.runs).to.be.empty;
      expect(d.reply).to.include('Unknown command "destroy"');
      expect(d.reply).to.include(COMMAND_HELP);
      expect(d.reply).to.include('/stacklink propose [stack]').and.include('/stacklink retry [stack]');
    });

    it('replies with the list of commands to a bare prefix, even when the repository has no stack', () => {
      const d = decideTriggers({ commenter: WRITER, event: commentEvent('/stacklink'), stacks: [] });
      expect(d.reply).to.include(COMMAND_HELP);
    });

    it('replies naming the known stacks when the named stack does not exist', () => {
      const d = decideTriggers({
        commenter: WRITER,
        event: commentEvent('/stacklink propose nope'),
        stacks: [prod, staging],
      });
      expect(d.runs).to.be.empty;
      expect(d.reply).to.include('No stack named `nope`').and.include('`prod`');
    });

    it('names only the stacks of the target branch when the named stack does not exist', () => {
      const d = decideTriggers({
        commenter: WRITER,
        event: commentEvent('/stacklink propose nope'),
        stacks: [prod, staging],
      });
      expect(d.reply).to.not.include('staging');
    });

    it('refuses a named stack whose branch is not the target of the pull request', () => {
      const d = decideTriggers({
        commenter: WRITER,
        event: commentEvent('/stacklink propose staging'),
        stacks: [prod, staging],
      });
      expect(d.runs).to.be.empty;
      expect(d.reply).to.include('does not track main');
      expect(d.skipped).to.deep.include({
        stackId: 'stack-b',
        reason: 'branch-mismatch',
        detail: "pull request targets refs/heads/main, not the stack's branch",
      });
    });

    it('refuses a command from a user without write permission, with a reply and a refused skip', () => {
      const d = decideTriggers({
        commenter: { kind: 'refused', name: 'mallory' },
        event: commentEvent('/stacklink propose prod'),
        stacks: [prod],
      });
      expect(d.runs).to.be.empty;
      expect(d.retry).to.be.empty;
      expect(d.reply).to.include('@mallory').and.include('write permission');
      expect(d.skipped).to.deep.equal([
        {
          stackId: 'stack-a',
          reason: 'refused',
          detail: '@mallory lacks write permission on the repository',
        },
      ]);
    });

    it('refuses a command whose commenter was not checked', () => {
      const d = decideTriggers({ event: commentEvent('/stacklink retry'), stacks: [prod] });
      expect(d.retry).to.be.empty;
      expect(d.skipped[0]).to.include({ reason: 'refused' });
    });

    it('skips a command whose comment was deleted before it was handled, without a reply', () => {
      const d = decideTriggers({
        commenter: { kind: 'vanished' },
        event: commentEvent('/stacklink propose prod'),
        stacks: [prod],
      });
      expect(d.runs).to.be.empty;
      expect(d.reply).to.equal(undefined);
      expect(d.skipped[0]).to.include({ stackId: 'stack-a', reason: 'vanished' });
    });

    it('refuses commands on a fork pull request when the stack does not allow forks', () => {
      const source = { ref: 'refs/heads/feature', commit: SHA(10), repository: fork };
      const d = decideTriggers({
        commenter: WRITER,
        event: commentEvent('/stacklink propose prod', { source }),
        stacks: [prod],
      });
      expect(d.runs).to.be.empty;
      expect(d.reply).to.match(/fork/);
    });

    it('refuses commands on a pull request that is no longer open', () => {
      const d = decideTriggers({
        commenter: WRITER,
        event: commentEvent('/stacklink propose prod', { state: 'merged' }),
        stacks: [prod],
      });
      expect(d.runs).to.be.empty;
      expect(d.reply).to.match(/is merged/);
    });
  });

  describe('cap on runs per event', () => {
    const many = Array.from({ length: 7 }, (_, i) =>
      stack({ id: `stack-${String(i).padStart(2, '0')}`, projectRoot: '' }),
    );

    it('creates at most the cap and reports every run over it', () => {
      const d = decideTriggers(
        pushInput({
          event: pushEvent(),
          stacks: many,
          changedFiles: files('a.tf'),
          maxRunsPerEvent: 5,
        }),
      );
      expect(d.runs).to.have.length(5);
      expect(d.overCap.map((r) => r.stackId)).to.deep.equal(['stack-05', 'stack-06']);
    });

    it('uses a cap of 100 by default', () => {
      const lots = Array.from({ length: 103 }, (_, i) =>
        stack({ id: `s-${String(i).padStart(3, '0')}`, projectRoot: '' }),
      );
      const d = decideTriggers(pushInput({ event: pushEvent(), stacks: lots, changedFiles: files('a.tf') }));
      expect(d.runs).to.have.length(100);
      expect(d.overCap).to.have.length(3);
    });

    it('counts duplicates once before applying the cap', () => {
      const d = decideTriggers(
        pushInput({
          event: pushEvent({ ref: 'refs/heads/a' }, { ref: 'refs/heads/b' }),
          stacks: many.slice(0, 3),
          changedFiles: files('a.tf'),
          maxRunsPerEvent: 3,
        }),
      );
      expect(d.runs).to.have.length(3);
      expect(d.overCap).to.be.empty;
    });
  });
});
