import { expect } from 'chai';
import type { RefConfirmation } from '../../src/domain/confirmed-facts';
import { decideTriggers } from '../../src/domain/decide-triggers';
import { commentEvent, files, prEvent, pushEvent, pushInput, SHA, stack } from '../support/events';

const prod = stack({ id: 'stack-a', name: 'prod', projectRoot: 'infra/prod', triggerOnTags: true });
const other = stack({ id: 'stack-b', name: 'other', projectRoot: 'infra/prod', branch: 'release' });
const here = { projectKey: 'PRJ', slug: 'infra' };
const fork = { projectKey: '~ALICE', slug: 'infra' };

const refs = (entries: [string, RefConfirmation][]) => new Map(entries);

describe('decideTriggers with what Bitbucket confirmed (docs/architecture.md §12)', () => {
  describe('push', () => {
    it('starts a tracked run on a commit Bitbucket shows on the stack branch', () => {
      const d = decideTriggers(
        pushInput({
          event: pushEvent({ after: SHA(5) }),
          stacks: [prod],
          changedFiles: files('infra/prod/main.tf'),
          confirmed: {
            refs: refs([
              ['refs/heads/main', { status: 'confirmed', commit: SHA(5), branches: ['refs/heads/main'] }],
            ]),
          },
        }),
      );
      expect(d.runs.map((r) => [r.stackId, r.type, r.commit])).to.deep.equal([
        ['stack-a', 'tracked', SHA(5)],
      ]);
      expect(d.skipped).to.deep.equal([]);
    });

    it('refuses every candidate stack of a ref Bitbucket contradicts, with its words', () => {
      const detail = 'Bitbucket does not show commit 000000000009 on refs/heads/main';
      const d = decideTriggers(
        pushInput({
          event: pushEvent({ after: SHA(9) }),
          stacks: [prod, other],
          changedFiles: files('infra/prod/main.tf'),
          confirmed: { refs: refs([['refs/heads/main', { status: 'refused', detail }]]) },
        }),
      );
      expect(d.runs).to.deep.equal([]);
      expect(d.skipped).to.deep.equal([
        { stackId: 'stack-a', reason: 'refused', detail },
        { stackId: 'stack-b', reason: 'refused', detail },
      ]);
    });

    it('refuses a ref Bitbucket was not asked about rather than trusting the body', () => {
      const d = decideTriggers(
        pushInput({
          event: pushEvent({ after: SHA(5) }),
          stacks: [prod],
          changedFiles: files('infra/prod/main.tf'),
          confirmed: { refs: new Map() },
        }),
      );
      expect(d.runs).to.deep.equal([]);
      expect(d.skipped.map((s) => s.reason)).to.deep.equal(['refused']);
    });

    it('starts a tag on the commit Bitbucket resolves it to, when that commit is on the stack branch', () => {
      const d = decideTriggers(
        pushInput({
          event: pushEvent({
            ref: 'refs/tags/v1',
            refType: 'tag',
            action: 'created',
            before: null,
            after: SHA(70),
          }),
          stacks: [prod],
          changedFiles: files('infra/prod/main.tf'),
          confirmed: {
            refs: refs([
              [
                'refs/tags/v1',
                { status: 'confirmed', commit: SHA(71), branches: ['refs/heads/main', 'refs/heads/x'] },
              ],
            ]),
          },
        }),
      );
      expect(d.runs.map((r) => [r.type, r.commit, r.ref])).to.deep.equal([
        ['tracked', SHA(71), 'refs/tags/v1'],
      ]);
    });

    it('skips a tag whose commit is not on the stack branch as tag-off-branch', () => {
      const d = decideTriggers(
        pushInput({
          event: pushEvent({
            ref: 'refs/tags/v1',
            refType: 'tag',
            action: 'created',
            before: null,
            after: SHA(71),
          }),
          stacks: [prod],
          changedFiles: files('infra/prod/main.tf'),
          confirmed: {
            refs: refs([
              ['refs/tags/v1', { status: 'confirmed', commit: SHA(71), branches: ['refs/heads/feature'] }],
            ]),
          },
        }),
      );
      expect(d.runs).to.deep.equal([]);
      expect(d.skipped).to.deep.equal([
        {
          stackId: 'stack-a',
          reason: 'tag-off-branch',
          detail: `tag refs/tags/v1 names commit ${SHA(71).slice(0, 12)}, which is not on refs/heads/main`,
        },
      ]);
    });

    it('records a stack the confirmation found superseded instead of running it, and runs the others', () => {
      const second = stack({ id: 'stack-c', name: 'second', projectRoot: 'infra/prod' });
      const d = decideTriggers(
        pushInput({
          event: pushEvent({ after: SHA(5) }),
          stacks: [prod, second],
          changedFiles: files('infra/prod/main.tf'),
          confirmed: {
            refs: refs([
              ['refs/heads/main', { status: 'confirmed', commit: SHA(5), branches: ['refs/heads/main'] }],
            ]),
            superseded: [{ stackId: 'stack-a', ref: 'refs/heads/main', detail: 'older than 000000000006' }],
          },
        }),
      );
      expect(d.runs.map((r) => r.stackId)).to.deep.equal(['stack-c']);
      expect(d.skipped).to.deep.equal([
        { stackId: 'stack-a', reason: 'superseded', detail: 'older than 000000000006' },
      ]);
    });
  });

  describe('pull requests', () => {
    it('refuses an event Bitbucket contradicts: no run, no cancel, every stack skipped as refused', () => {
      const detail = 'Bitbucket shows pull request #7 with source refs/heads/feature at 000000000011';
      const d = decideTriggers({
        event: prEvent('pull_request.source_updated'),
        stacks: [prod],
        changedFiles: files('infra/prod/main.tf'),
        confirmed: { pullRequest: { status: 'refused', detail } },
      });
      expect(d.runs).to.deep.equal([]);
      expect(d.cancel).to.deep.equal([]);
      expect(d.skipped).to.deep.equal([{ stackId: 'stack-a', reason: 'refused', detail }]);
    });

    it('applies the fork rule to the source repository Bitbucket reports, not the one the body claims', () => {
      const event = prEvent('pull_request.opened');
      const d = decideTriggers({
        event,
        stacks: [prod],
        changedFiles: files('infra/prod/main.tf'),
        confirmed: {
          pullRequest: {
            status: 'confirmed',
            pullRequest: { ...event.pullRequest, source: { ...event.pullRequest.source, repository: fork } },
          },
        },
      });
      expect(d.runs).to.deep.equal([]);
      expect(d.skipped.map((s) => s.reason)).to.deep.equal(['fork-not-allowed']);
    });

    it('proposes the source commit Bitbucket reports on a comment command, not the one in the body', () => {
      const event = commentEvent('/stacklink propose');
      const d = decideTriggers({
        event,
        stacks: [prod],
        changedFiles: files('infra/prod/main.tf'),
        commenter: { kind: 'writer', name: 'alice' },
        confirmed: {
          pullRequest: {
            status: 'confirmed',
            pullRequest: {
              ...event.pullRequest,
              source: { ref: 'refs/heads/feature', commit: SHA(12), repository: here },
            },
          },
        },
      });
      expect(d.runs.map((r) => [r.type, r.commit])).to.deep.equal([['proposed', SHA(12)]]);
    });

    it('answers nothing to a comment on a pull request Bitbucket does not have', () => {
      const d = decideTriggers({
        event: commentEvent('/stacklink propose'),
        stacks: [prod],
        confirmed: {
          pullRequest: { status: 'refused', detail: 'Bitbucket has no pull request #7 in PRJ/infra' },
        },
      });
      expect(d.reply).to.equal(undefined);
      expect(d.runs).to.deep.equal([]);
      expect(d.skipped.map((s) => s.reason)).to.deep.equal(['refused']);
    });
  });
});
