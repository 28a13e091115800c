import { expect } from 'chai';
import { isAppError } from '@stacklink/errors';
import { readJson, type WebhookFixture } from '@stacklink/fixtures';
import {
  type CanonicalEvent,
  type EventOfType,
  type EventType,
  normalize,
  type PushChange,
  routingKeyFor,
  toBusMessage,
  validateEvent,
} from '../../src';

/*
 * The rows of the normalizer's fixture tables (STYLE.md: the normalizer is a pure function tested against
 * every fixture): one row per body, the event key it is delivered with, its expected outcome written out
 * and the key facts of the event it becomes.
 */

export const DELIVERY = {
  deliveryId: '0b6d2c1e-7f4a-4c59-8e21-5d3f9a7b1c02',
  integrationId: 'int-fixtures',
  receivedAt: new Date('2030-01-01T00:00:00.000Z'),
  id: '5f1e9c2a-3b7d-4e8f-a0c1-2d4e6f8a0b13',
};

export type Sha = string;
export type Repo = `${string}/${string}`;

export interface Row {
  /** The X-Event-Key the body is delivered with (the manifest's or SOURCES.md's column). */
  eventKey: string;
  expected: EventType | 'ignored' | 'rejected';
  /** The key facts of the resulting event. */
  facts?: (event: CanonicalEvent) => void;
  /** For a rejected body: what the error message names. */
  rejects?: RegExp;
}

export function ignored(eventKey: string): Row {
  return { eventKey, expected: 'ignored' };
}

export function repoOf(repository: { projectKey: string; slug: string }): Repo {
  return `${repository.projectKey}/${repository.slug}`;
}

export function narrow<T extends EventType>(event: CanonicalEvent, type: T): EventOfType<T> {
  expect(event.type).to.equal(type);
  return event as EventOfType<T>;
}

export type ChangeRow = [
  ref: string,
  refType: PushChange['refType'],
  action: PushChange['action'],
  before: Sha | null,
  after: Sha | null,
];

export function push(
  repo: Repo,
  changes: ChangeRow[],
  more: (e: EventOfType<'push'>) => void = () => {},
): Row {
  return {
    eventKey: 'repo:refs_changed',
    expected: 'push',
    facts: (event) => {
      const e = narrow(event, 'push');
      expect(repoOf(e.repository)).to.equal(repo);
      expect(e.push.changes).to.deep.equal(
        changes.map(([ref, refType, action, before, after]) => ({ ref, refType, action, before, after })),
      );
      more(e);
    },
  };
}

export type PullRequestEvents = Exclude<CanonicalEvent, { type: 'push' }>;

export interface PullRequestFacts {
  id: number;
  state: 'open' | 'merged' | 'declined';
  /** [ref, commit, repository] */
  source: [string, Sha, Repo];
  target: [string, Sha, Repo];
  /** The link, or null when the fixture has none. */
  url: string | null;
  draft?: boolean;
  more?: (e: PullRequestEvents) => void;
}

export function pullRequest(
  eventKey: string,
  type: Exclude<EventType, 'push'>,
  facts: PullRequestFacts,
): Row {
  return {
    eventKey,
    expected: type,
    facts: (event) => {
      const e = narrow(event, type) as PullRequestEvents;
      const pr = e.pullRequest;
      expect(pr.id).to.equal(facts.id);
      expect(pr.state).to.equal(facts.state);
      expect([pr.source.ref, pr.source.commit, repoOf(pr.source.repository)]).to.deep.equal(facts.source);
      expect([pr.target.ref, pr.target.commit, repoOf(pr.target.repository)]).to.deep.equal(facts.target);
      // The event belongs to the target repository, also for pull requests from forks.
      expect(repoOf(e.repository)).to.equal(facts.target[2]);
      expect(pr.draft).to.equal(facts.draft ?? false);
      if (facts.url === null) expect(pr).not.to.have.property('url');
      else expect(pr.url).to.equal(facts.url);
      facts.more?.(e);
    },
  };
}

export function review(
  eventKey: string,
  type:
    | 'pull_request.reviewer_approved'
    | 'pull_request.reviewer_unapproved'
    | 'pull_request.reviewer_needs_work',
  reviewer: string,
  status: string,
  previousStatus: string,
  facts: Omit<PullRequestFacts, 'more'>,
): Row {
  return pullRequest(eventKey, type, {
    ...facts,
    more: (e) => {
      const r = narrow(e, type).review;
      expect([r.reviewer.slug, r.status, r.previousStatus]).to.deep.equal([reviewer, status, previousStatus]);
    },
  });
}

export function notFork(e: PullRequestEvents): void {
  expect(e.pullRequest.source.repository).to.deep.equal(e.pullRequest.target.repository);
}

export function fork(e: PullRequestEvents): void {
  expect(e.pullRequest.source.repository).not.to.deep.equal(e.pullRequest.target.repository);
}

// Bitbucket's 40 zeros become null in the canonical event.
export const NO_COMMIT = null;

/** A handled key whose body cannot give a valid event: a 400 naming the field, never an event. */
export function rejected(eventKey: string, field: RegExp): Row {
  return { eventKey, expected: 'rejected', rejects: field };
}

function normalizeFixture(fixture: WebhookFixture, row: Row) {
  return normalize({ ...DELIVERY, eventKey: row.eventKey, body: readJson(fixture) });
}

/**
 * Registers one test per fixture of `fixtures` against its row of `table`, and one that fails while a
 * fixture has no row or a row no fixture (a new capture fails until somebody writes its outcome out).
 */
export function normalizesAsTabled(fixtures: WebhookFixture[], table: Record<string, Row>): void {
  it('every fixture has a row in the table, and every row a fixture', () => {
    const files = fixtures.map((f) => f.file);
    expect(files.length).to.be.greaterThan(0);
    expect(
      files.filter((f) => !(f in table)),
      'fixtures without a row',
    ).to.deep.equal([]);
    expect(
      Object.keys(table).filter((f) => !files.includes(f)),
      'rows without a fixture',
    ).to.deep.equal([]);
  });

  for (const fixture of fixtures) {
    const row = table[fixture.file];
    if (row === undefined) continue;
    const file = fixture.file;

    it(`${file} is delivered as ${fixture.eventKey}`, () => {
      expect(row.eventKey).to.equal(fixture.eventKey);
    });

    if (row.expected === 'ignored') {
      it(`${file} (${row.eventKey}) is ignored with a reason`, () => {
        const result = normalizeFixture(fixture, row);

        expect(result.kind).to.equal('ignored');
        if (result.kind === 'ignored') expect(result.reason).to.contain(row.eventKey);
      });
      continue;
    }

    if (row.expected === 'rejected') {
      it(`${file} (${row.eventKey}) is rejected, naming the field`, () => {
        let thrown: unknown;
        try {
          normalizeFixture(fixture, row);
        } catch (err) {
          thrown = err;
        }

        expect(isAppError(thrown) && thrown.code, String(thrown)).to.equal('EVENT.INVALID_PAYLOAD');
        expect((thrown as Error).message).to.match(row.rejects!);
      });
      continue;
    }

    const type = row.expected;
    it(`${file} (${row.eventKey}) becomes a valid ${type} event with the fixture's facts`, () => {
      const result = normalizeFixture(fixture, row);

      if (result.kind !== 'event') expect.fail(`ignored: ${result.reason}`);
      const event = result.event;
      expect(validateEvent(JSON.parse(JSON.stringify(event)), { mode: 'producer' })).to.deep.equal(event);
      expect(event).to.include({
        specVersion: 1,
        provider: 'bitbucket-dc',
        type,
        id: DELIVERY.id,
        deliveryId: DELIVERY.deliveryId,
        integrationId: DELIVERY.integrationId,
        receivedAt: '2030-01-01T00:00:00.000Z',
      });
      // Every fixture carries a date, so the instant comes from the body, not from receivedAt.
      expect(event.occurredAt).to.match(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(event.occurredAt).not.to.equal(event.receivedAt);
      expect(toBusMessage(event).routingKey).to.equal(routingKeyFor(type));
      row.facts?.(event);
    });
  }
}
