import { expect } from 'chai';
import { isAppError } from '@stacklink/errors';
import {
  type CanonicalEvent,
  type EventOfType,
  normalize,
  type NormalizeInput,
  type NormalizeResult,
} from '../../src';
import { loadWebhook } from '../support/fixtures';

const DELIVERY = {
  deliveryId: '3c9d7e2f-1a4b-4c6d-8e0f-a1b2c3d4e5f6',
  integrationId: 'int-1',
  receivedAt: new Date('2030-01-01T00:00:00.000Z'),
  id: '8e4c2a10-6b3d-4f7e-9a5c-0d1e2f3a4b5c',
};

function run(eventKey: string, body: unknown, extra: Partial<NormalizeInput> = {}): NormalizeResult {
  return normalize({ ...DELIVERY, eventKey, body, ...extra });
}

function eventOf<T extends CanonicalEvent['type']>(result: NormalizeResult, type: T): EventOfType<T> {
  if (result.kind !== 'event') return expect.fail(`expected an event, got ignored: ${result.reason}`);
  expect(result.event.type).to.equal(type);
  return result.event as EventOfType<T>;
}

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return expect.fail('expected a throw');
}

function expectInvalidPayload(err: unknown, field: string): void {
  if (!isAppError(err)) return expect.fail(`expected an AppError, got ${String(err)}`);
  expect(err.code).to.equal('EVENT.INVALID_PAYLOAD');
  expect(err.status).to.equal(400);
  expect(err.retryable).to.equal(false);
  expect(err.message).to.contain(`"${field}"`);
  const details = err.details as { errors: { path: string }[] };
  expect(details.errors.map((e) => e.path)).to.include(field);
}

// Test bodies are edited by path; the shape is the fixture's.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = Record<string, any>;

describe('normalize', () => {
  describe('when the payload of a supported event is missing what the event needs', () => {
    it('a pull request without its source commit throws EVENT.INVALID_PAYLOAD naming the field', () => {
      const body = loadWebhook('pr-opened.json');
      delete (body.pullRequest as { fromRef: Record<string, unknown> }).fromRef.latestCommit;

      const err = thrownBy(() => run('pr:opened', body));

      expectInvalidPayload(err, 'pullRequest.fromRef.latestCommit');
    });

    it('a push without its repository throws EVENT.INVALID_PAYLOAD naming repository', () => {
      const body = loadWebhook('push-branch-update.json');
      delete body.repository;

      expectInvalidPayload(
        thrownBy(() => run('repo:refs_changed', body)),
        'repository',
      );
    });

    it('a review without the participant throws naming participant', () => {
      const body = loadWebhook('pr-reviewer-approved.json');
      delete body.participant;

      expectInvalidPayload(
        thrownBy(() => run('pr:reviewer:approved', body)),
        'participant',
      );
    });

    it('a new comment without the comment throws naming comment', () => {
      const body = loadWebhook('pr-comment-added-reply.json');
      delete body.comment;

      expectInvalidPayload(
        thrownBy(() => run('pr:comment:added', body)),
        'comment',
      );
    });

    it('a ref change of an unknown kind throws naming changes[i].type', () => {
      const body = loadWebhook('push-branch-update.json');
      (body.changes as Record<string, unknown>[])[0]!.type = 'RENAME';

      expectInvalidPayload(
        thrownBy(() => run('repo:refs_changed', body)),
        'changes[0].type',
      );
    });

    describe('every string has a bound (Bitbucket limits), and one over it is refused naming the field', () => {
      const cases: [string, string, (body: Body, value: string) => void, number][] = [
        ['push', 'repository.project.key', (b, v) => (b.repository.project.key = v), 128],
        ['push', 'repository.slug', (b, v) => (b.repository.slug = v), 128],
        ['push', 'changes[0].ref.id', (b, v) => (b.changes[0].ref.id = v), 1024],
        ['push', 'actor.displayName', (b, v) => (b.actor.displayName = v), 255],
        ['pr', 'pullRequest.title', (b, v) => (b.pullRequest.title = v), 255],
        ['pr', 'pullRequest.toRef.repository.slug', (b, v) => (b.pullRequest.toRef.repository.slug = v), 128],
        ['pr', 'pullRequest.fromRef.id', (b, v) => (b.pullRequest.fromRef.id = v), 1024],
        ['comment', 'comment.text', (b, v) => (b.comment.text = v), 32 * 1024],
      ];
      const sources = {
        push: ['repo:refs_changed', 'push-branch-update.json'],
        pr: ['pr:opened', 'pr-opened.json'],
        comment: ['pr:comment:added', 'pr-comment-added-reply.json'],
      } as const;
      for (const [kind, field, set, bound] of cases) {
        it(`${field}: ${bound} characters pass, ${bound + 1} are refused`, () => {
          const [key, file] = sources[kind as keyof typeof sources];
          const atBound = loadWebhook(file) as Body;
          set(atBound, 'a'.repeat(bound));
          expect(run(key, atBound).kind).to.equal('event');

          const over = loadWebhook(file) as Body;
          set(over, 'a'.repeat(bound + 1));
          expectInvalidPayload(
            thrownBy(() => run(key, over)),
            field,
          );
        });
      }
    });

    it('a body that is not an object throws EVENT.INVALID_PAYLOAD', () => {
      for (const body of [null, 'text', 42, []]) {
        const err = thrownBy(() => run('pr:opened', body));

        expect(isAppError(err) && err.code).to.equal('EVENT.INVALID_PAYLOAD');
      }
    });

    it('empty delivery metadata is refused too, naming the field', () => {
      const err = thrownBy(() => run('pr:opened', loadWebhook('pr-opened.json'), { deliveryId: '' }));

      expectInvalidPayload(err, 'deliveryId');
    });
  });

  describe('routing', () => {
    it('routes on the X-Event-Key header, never on the body eventKey', () => {
      const body = loadWebhook('push-branch-update.json');
      body.eventKey = 'pr:opened';

      const push = eventOf(run('repo:refs_changed', body), 'push');
      const ignored = run('mirror:repo_synchronized', body);

      expect(push.push.changes).to.have.length(1);
      expect(ignored.kind).to.equal('ignored');
    });

    it('keys another event type would read are not trusted on a push (they were never validated)', () => {
      const body = loadWebhook('push-branch-update.json');
      body.pullRequest = 'not a pull request';

      const event = eventOf(run('repo:refs_changed', body), 'push');

      expect(event.repository).to.deep.equal({ projectKey: 'PRJ', slug: 'infra', id: 9, name: 'infra' });
    });

    it('a pull request body under the push key is refused, not reinterpreted', () => {
      const err = thrownBy(() => run('repo:refs_changed', loadWebhook('pr-opened.json')));

      expectInvalidPayload(err, 'repository');
    });

    it('an unknown event key is ignored with a reason naming it, whatever the body', () => {
      for (const key of ['pr:to_ref_updated', 'repo:secret_detected', 'constructor', '__proto__', '']) {
        const result = run(key, { anything: true });

        expect(result).to.deep.equal({ kind: 'ignored', reason: `${key}: not an event Stacklink handles` });
      }
    });

    it('diagnostics:ping is ignored although its body has nothing an event needs', () => {
      const result = run('diagnostics:ping', { test: true });

      expect(result.kind).to.equal('ignored');
    });
  });

  describe('push', () => {
    it('a push of several refs keeps every change, in order, each with its own action', () => {
      // Adds a created branch and a deleted tag to a one-ref push.
      const body = loadWebhook('push-branch-update.json');
      const changes = body.changes as Record<string, unknown>[];
      changes.push(
        {
          ref: { id: 'refs/heads/feature/a', displayId: 'feature/a', type: 'BRANCH' },
          refId: 'refs/heads/feature/a',
          fromHash: '0000000000000000000000000000000000000000',
          toHash: '208b0a5c05eddadad01f2aed8802fe0c3b3eaf5e',
          type: 'ADD',
        },
        {
          ref: { id: 'refs/tags/v0.9', displayId: 'v0.9', type: 'TAG' },
          refId: 'refs/tags/v0.9',
          fromHash: '5c64a07cd6c0f21b753bf261ef059c7e7633c50a',
          toHash: '0000000000000000000000000000000000000000',
          type: 'DELETE',
        },
      );

      const event = eventOf(run('repo:refs_changed', body), 'push');

      expect(event.push.changes).to.deep.equal([
        {
          ref: 'refs/heads/main',
          refType: 'branch',
          action: 'updated',
          before: '73299f675471c38fc16003f06e9034e12f7cb434',
          after: '35da9dc353564348ae57a91c35f5617244b5631f',
        },
        {
          ref: 'refs/heads/feature/a',
          refType: 'branch',
          action: 'created',
          before: null,
          after: '208b0a5c05eddadad01f2aed8802fe0c3b3eaf5e',
        },
        {
          ref: 'refs/tags/v0.9',
          refType: 'tag',
          action: 'deleted',
          before: '5c64a07cd6c0f21b753bf261ef059c7e7633c50a',
          after: null,
        },
      ]);
    });

    it('a change with only refId (no ref object) still names a tag as a tag', () => {
      const body = loadWebhook('push-tag-created-lightweight.json');
      const change = (body.changes as Record<string, unknown>[])[0]!;
      delete change.ref;

      const event = eventOf(run('repo:refs_changed', body), 'push');

      expect(event.push.changes[0]).to.include({
        ref: 'refs/tags/v1.0.0',
        refType: 'tag',
        action: 'created',
      });
    });
  });

  describe('dates', () => {
    it('the same instant as epoch milliseconds and as ISO-8601 gives the same occurredAt', () => {
      const asEpoch = loadWebhook('push-branch-update.json');
      const asIso = loadWebhook('push-branch-update.json');
      const asOffset = loadWebhook('push-branch-update.json');
      asEpoch.date = 1530814920000;
      asIso.date = '2018-07-05T18:22:00+0000';
      asOffset.date = '2018-07-05T20:22:00.000+02:00';

      const instants = [asEpoch, asIso, asOffset].map(
        (body) => eventOf(run('repo:refs_changed', body), 'push').occurredAt,
      );

      expect(instants).to.deep.equal([
        '2018-07-05T18:22:00.000Z',
        '2018-07-05T18:22:00.000Z',
        '2018-07-05T18:22:00.000Z',
      ]);
    });

    it('without a date in the body, occurredAt falls back to receivedAt', () => {
      const body = loadWebhook('pr-merged.json');
      delete body.date;

      const event = eventOf(run('pr:merged', body), 'pull_request.merged');

      expect(event.occurredAt).to.equal('2030-01-01T00:00:00.000Z');
    });

    it('a date that is neither epoch ms nor ISO-8601 is refused, naming date', () => {
      const body = loadWebhook('pr-merged.json');
      body.date = 'yesterday';

      expectInvalidPayload(
        thrownBy(() => run('pr:merged', body)),
        'date',
      );
    });
  });

  describe('pull requests', () => {
    it('a draft pull request says so; an older payload without the field is not a draft', () => {
      const draft = loadWebhook('pr-opened-draft.json');
      const older = loadWebhook('pr-opened.json');
      delete (older.pullRequest as Record<string, unknown>).draft;

      expect(eventOf(run('pr:opened', draft), 'pull_request.opened').pullRequest.draft).to.equal(true);
      expect(eventOf(run('pr:opened', older), 'pull_request.opened').pullRequest.draft).to.equal(false);
    });

    it('a user without displayName is shown by name', () => {
      const body = loadWebhook('pr-opened.json');
      delete (body.actor as Record<string, unknown>).displayName;

      const event = eventOf(run('pr:opened', body), 'pull_request.opened');

      expect(event.actor).to.deep.equal({ id: 2, slug: 'alice', name: 'alice', displayName: 'alice' });
    });

    it('the review status comes from the event key, the previous status from the body', () => {
      const event = eventOf(
        run('pr:reviewer:needs_work', loadWebhook('pr-reviewer-needs-work.json')),
        'pull_request.reviewer_needs_work',
      );

      expect(event.review).to.deep.equal({
        reviewer: { id: 4, slug: 'carol', name: 'carol', displayName: 'Carol Chen' },
        status: 'needs_work',
        previousStatus: 'unapproved',
      });
    });
  });

  describe('ids', () => {
    it('without an injected id, each event gets its own random UUID', () => {
      const body = loadWebhook('pr-opened.json');

      const a = eventOf(run('pr:opened', body, { id: undefined }), 'pull_request.opened');
      const b = eventOf(run('pr:opened', body, { id: undefined }), 'pull_request.opened');

      expect(a.id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(a.id).not.to.equal(b.id);
    });

    it('with an injected id, normalizing is deterministic', () => {
      const first = run('pr:opened', loadWebhook('pr-opened-draft.json'));
      const second = run('pr:opened', loadWebhook('pr-opened-draft.json'));

      expect(first).to.deep.equal(second);
    });
  });
});
