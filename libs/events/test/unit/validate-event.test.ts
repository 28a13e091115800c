import { expect } from 'chai';
import { isAppError } from '@stacklink/errors';
import { type CanonicalEvent, EVENT_SCHEMAS, EVENT_TYPES, normalize, validateEvent } from '../../src';
import { loadWebhook } from '../support/fixtures';

function eventFrom(fixture: string, eventKey: string): Record<string, unknown> {
  const result = normalize({
    eventKey,
    deliveryId: 'f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b',
    integrationId: 'int-1',
    receivedAt: new Date('2030-01-01T00:00:00.000Z'),
    body: loadWebhook(fixture),
    id: '2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d',
  });
  if (result.kind !== 'event') return expect.fail(result.reason);
  // A copy as it travels: JSON, no shared references with the normalizer's output.
  return JSON.parse(JSON.stringify(result.event)) as Record<string, unknown>;
}

function invalid(fn: () => unknown): { message: string; paths: string[] } {
  try {
    fn();
  } catch (err) {
    if (!isAppError(err)) return expect.fail(`expected an AppError, got ${String(err)}`);
    expect(err.code).to.equal('EVENT.INVALID');
    expect(err.status).to.equal(400);
    expect(err.retryable).to.equal(false);
    return {
      message: err.message,
      paths: (err.details as { errors: { path: string }[] }).errors.map((e) => e.path),
    };
  }
  return expect.fail('expected EVENT.INVALID');
}

describe('validateEvent', () => {
  it('has one schema per event type', () => {
    expect(Object.keys(EVENT_SCHEMAS)).to.have.members([...EVENT_TYPES]);
  });

  it('returns a valid event unchanged, typed by its type', () => {
    const value = eventFrom('pr-from-ref-updated.json', 'pr:from_ref_updated');

    const event: CanonicalEvent = validateEvent(value, { mode: 'producer' });

    expect(event).to.deep.equal(value);
    if (event.type === 'pull_request.source_updated') {
      expect(event.pullRequest.previousSourceCommit).to.equal('004dc669a3feccab705ca8e0e9003ad20739bc2f');
    } else expect.fail(`unexpected type ${event.type}`);
  });

  it('a consumer tolerates fields a newer producer added; a producer refuses them, naming the field', () => {
    const value = eventFrom('pr-comment-added-reply.json', 'pr:comment:added');
    value.labels = ['infra'];
    (value.pullRequest as Record<string, unknown>).description = 'added in a later 1.x';
    (value.comment as { author: Record<string, unknown> }).author.emailAddress = 'admin@example.com';

    const consumed = validateEvent(value, { mode: 'consumer' });
    const refused = invalid(() => validateEvent(value, { mode: 'producer' }));

    expect(consumed).to.deep.include({ labels: ['infra'] });
    expect(refused.paths).to.have.members([
      'labels',
      'pullRequest.description',
      'comment.author.emailAddress',
    ]);
    expect(refused.message).to.contain('"labels" is not allowed');
  });

  it('a consumer still refuses an event missing a required field', () => {
    const value = eventFrom('pr-opened.json', 'pr:opened');
    delete (value.pullRequest as { source: Record<string, unknown> }).source.commit;

    const refused = invalid(() => validateEvent(value, { mode: 'consumer' }));

    expect(refused.paths).to.deep.equal(['pullRequest.source.commit']);
    expect(refused.message).to.contain('"pullRequest.source.commit" is required');
  });

  it('another specVersion is refused in both modes, naming specVersion', () => {
    const value = {
      ...eventFrom('push-branch-update.json', 'repo:refs_changed'),
      specVersion: 2,
    };

    for (const mode of ['producer', 'consumer'] as const) {
      expect(invalid(() => validateEvent(value, { mode })).paths).to.deep.equal(['specVersion']);
    }
  });

  it('an unknown type is refused, naming type', () => {
    const value = {
      ...eventFrom('push-branch-update.json', 'repo:refs_changed'),
      type: 'tag',
    };

    expect(invalid(() => validateEvent(value, { mode: 'consumer' })).paths).to.deep.equal(['type']);
  });

  it('a type without its required section is refused, naming the section', () => {
    const pr = eventFrom('pr-opened.json', 'pr:opened');
    const review = eventFrom('pr-reviewer-approved.json', 'pr:reviewer:approved');
    const comment = eventFrom('pr-comment-added-reply.json', 'pr:comment:added');
    delete pr.pullRequest;
    delete review.review;
    delete comment.comment;

    expect(invalid(() => validateEvent(pr, { mode: 'consumer' })).paths).to.deep.equal(['pullRequest']);
    expect(invalid(() => validateEvent(review, { mode: 'consumer' })).paths).to.deep.equal(['review']);
    expect(invalid(() => validateEvent(comment, { mode: 'consumer' })).paths).to.deep.equal(['comment']);
  });

  it('a review whose status contradicts its type is refused', () => {
    const value = eventFrom('pr-reviewer-approved.json', 'pr:reviewer:approved');
    (value.review as Record<string, unknown>).status = 'needs_work';

    expect(invalid(() => validateEvent(value, { mode: 'producer' })).paths).to.deep.equal(['review.status']);
  });

  it('a created ref must have no before commit, a deleted ref no after commit', () => {
    const created = eventFrom('push-branch-created.json', 'repo:refs_changed');
    const deleted = eventFrom('push-branch-deleted.json', 'repo:refs_changed');
    (created.push as { changes: Record<string, unknown>[] }).changes[0]!.before = '0'.repeat(40);
    (deleted.push as { changes: Record<string, unknown>[] }).changes[0]!.after = '0'.repeat(40);

    expect(invalid(() => validateEvent(created, { mode: 'producer' })).paths).to.deep.equal([
      'push.changes[0].before',
    ]);
    expect(invalid(() => validateEvent(deleted, { mode: 'producer' })).paths).to.deep.equal([
      'push.changes[0].after',
    ]);
  });

  it('values are not converted: a numeric string where a number belongs is refused', () => {
    const value = eventFrom('pr-opened.json', 'pr:opened');
    (value.pullRequest as Record<string, unknown>).id = '2';

    expect(invalid(() => validateEvent(value, { mode: 'consumer' })).paths).to.deep.equal(['pullRequest.id']);
  });

  it('an instant is what Date#toISOString writes, and every one the schema accepts is a real date', () => {
    const value = eventFrom('pr-opened.json', 'pr:opened');
    const pad = (n: number, width = 2) => String(n).padStart(width, '0');
    for (const year of [0, 1970, 2030, 9999]) {
      for (let month = 1; month <= 12; month++) {
        for (let day = 1; day <= 31; day++) {
          const instant = `${pad(year, 4)}-${pad(month)}-${pad(day)}T23:59:59.999Z`;
          expect(Number.isNaN(Date.parse(instant)), instant).to.equal(false);
          expect(() => validateEvent({ ...value, occurredAt: instant }, { mode: 'producer' })).not.to.throw();
        }
      }
    }
    for (const instant of [
      '2030-13-01T00:00:00.000Z',
      '2030-01-32T00:00:00.000Z',
      '2030-01-01T24:00:00.000Z',
      '2030-01-01T00:00:00Z',
      '2030-01-01T00:00:00.000+01:00',
    ]) {
      expect(
        invalid(() => validateEvent({ ...value, occurredAt: instant }, { mode: 'producer' })).paths,
        instant,
      ).to.deep.equal(['occurredAt']);
    }
  });

  it('something that is not an event at all is refused', () => {
    for (const value of [null, 'push', [], {}]) {
      expect(invalid(() => validateEvent(value, { mode: 'consumer' })).message).to.match(/^invalid event: /);
    }
  });
});
