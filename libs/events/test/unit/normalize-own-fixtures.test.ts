import { expect } from 'chai';
import { ownCorpus, ownWebhook, readJson } from '@stacklink/fixtures';
import { normalize } from '../../src';
import {
  DELIVERY,
  fork,
  ignored,
  narrow,
  NO_COMMIT,
  normalizesAsTabled,
  notFork,
  type PullRequestEvents,
  pullRequest,
  push,
  rejected,
  review,
  type Row,
} from '../support/fixture-rows';

/*
 * Every body of our own corpus (libs/fixtures/bitbucket-dc, written by the simulator) goes through the
 * normalizer here, with its outcome and key facts written out by hand from the JSON body. The event key
 * of each file is the manifest's X-Event-Key; the manifest's `expected` must agree with the row.
 */

const INFRA = 'PRJ/infra';
const PR = (id: number): string =>
  `https://bitbucket.example.test/projects/PRJ/repos/infra/pull-requests/${id}`;

function at(instant: string): (e: { occurredAt: string }) => void {
  return (e) => expect(e.occurredAt).to.equal(instant);
}

/** The comment of a pull_request.comment_added event: [id, text, parentId or null, author slug]. */
function commentIs(
  e: PullRequestEvents,
  id: number,
  text: string,
  parentId: number | null,
  author: string,
): void {
  const c = narrow(e, 'pull_request.comment_added').comment;
  expect([c.id, c.text, c.author.slug]).to.deep.equal([id, text, author]);
  if (parentId === null) expect(c).not.to.have.property('parentId');
  else expect(c.parentId).to.equal(parentId);
}

// prettier-ignore
const TABLE: Record<string, Row> = {
  // ---- repo:refs_changed → push
  'push-branch-update.json': push(INFRA, [
    ['refs/heads/main', 'branch', 'updated', '73299f675471c38fc16003f06e9034e12f7cb434', '35da9dc353564348ae57a91c35f5617244b5631f'],
  ], (e) => {
    expect(e.occurredAt).to.equal('2031-03-04T05:06:11.000Z');
    expect(e.actor.slug).to.equal('alice');
  }),
  // Bitbucket 7.x–9.x: toCommit and commits (epoch-ms timestamps) change nothing in the event.
  'push-branch-update-with-commits.json': push(INFRA, [
    ['refs/heads/main', 'branch', 'updated', '73299f675471c38fc16003f06e9034e12f7cb434', '35da9dc353564348ae57a91c35f5617244b5631f'],
  ], at('2031-03-04T05:06:11.000Z')),
  'push-branch-created.json': push(INFRA, [
    ['refs/heads/feature/vpc', 'branch', 'created', NO_COMMIT, '004dc669a3feccab705ca8e0e9003ad20739bc2f'],
  ], at('2031-03-04T05:06:14.000Z')),
  'push-multi-ref.json': push(INFRA, [
    ['refs/heads/release/1.0', 'branch', 'created', NO_COMMIT, '079c531ad7d08910db2931ccdb54984cf3b3ba25'],
    ['refs/heads/main', 'branch', 'updated', '35da9dc353564348ae57a91c35f5617244b5631f', 'dca72616dcefd4144e311b537c3cfbacc78709d5'],
    ['refs/heads/hotfix/dns', 'branch', 'created', NO_COMMIT, '15d49ee396b2ecfd91ed798843ca325af966ec95'],
    ['refs/heads/feature/db', 'branch', 'created', NO_COMMIT, '93212e796d836a6026783c901cbf0668661037ad'],
  ], (e) => expect(e.actor.slug).to.equal('bob')),
  'push-tag-created-lightweight.json': push(INFRA, [
    ['refs/tags/v1.0.0', 'tag', 'created', NO_COMMIT, 'dca72616dcefd4144e311b537c3cfbacc78709d5'],
  ]),
  // Annotated tag: `after` is the tag object Bitbucket reports as toHash, not the commit it names.
  'push-tag-created-annotated.json': push(INFRA, [
    ['refs/tags/v1.1.0', 'tag', 'created', NO_COMMIT, 'a8c38688a8e3cec90bf183d95da90a56c01c9007'],
  ]),
  'push-tag-deleted.json': push(INFRA, [
    ['refs/tags/v1.0.0', 'tag', 'deleted', 'dca72616dcefd4144e311b537c3cfbacc78709d5', NO_COMMIT],
  ]),
  'push-branch-deleted.json': push(INFRA, [
    ['refs/heads/hotfix/dns', 'branch', 'deleted', '15d49ee396b2ecfd91ed798843ca325af966ec95', NO_COMMIT],
  ], (e) => expect(e.actor.slug).to.equal('bob')),
  'push-empty-changes.json': push(INFRA, [], at('2031-03-04T05:06:30.000Z')),
  // The merge of pull request 1 moving release/1.0, without and with the DC 10.x toCommit/commits.
  'push-merge-without-commits.json': push(INFRA, [
    ['refs/heads/release/1.0', 'branch', 'updated', '079c531ad7d08910db2931ccdb54984cf3b3ba25', 'da721cd3a7bc3cd03828b424397c47a57a29dc85'],
  ], at('2031-03-04T05:07:11.000Z')),
  'push-dc10-with-commits.json': push(INFRA, [
    ['refs/heads/release/1.0', 'branch', 'updated', '079c531ad7d08910db2931ccdb54984cf3b3ba25', 'da721cd3a7bc3cd03828b424397c47a57a29dc85'],
  ], at('2031-03-04T05:07:11.000Z')),

  // ---- pr:opened
  'pr-opened.json': pullRequest('pr:opened', 'pull_request.opened', {
    id: 1, state: 'open', url: PR(1), draft: false,
    source: ['refs/heads/feature/vpc', '004dc669a3feccab705ca8e0e9003ad20739bc2f', INFRA],
    target: ['refs/heads/main', 'dca72616dcefd4144e311b537c3cfbacc78709d5', INFRA],
    more: (e) => {
      notFork(e);
      expect([e.pullRequest.title, e.pullRequest.version, e.pullRequest.author.slug, e.actor.slug])
        .to.deep.equal(['Add a VPC stack', 0, 'alice', 'alice']);
      expect(e.occurredAt).to.equal('2031-03-04T05:06:33.000Z'); // createdDate is epoch ms here
    },
  }),
  'pr-opened-fork-project.json': pullRequest('pr:opened', 'pull_request.opened', {
    id: 2, state: 'open', url: PR(2),
    source: ['refs/heads/ops/dns', 'c5dbcc9dbf8b0ce70a45b17933fa53c5959859dd', 'OPS/infra'],
    target: ['refs/heads/main', 'dca72616dcefd4144e311b537c3cfbacc78709d5', INFRA],
    more: fork,
  }),
  // From a fork in alice's personal project: the key keeps its `~`, the event belongs to PRJ/infra.
  'pr-opened-fork-personal.json': pullRequest('pr:opened', 'pull_request.opened', {
    id: 3, state: 'open', url: PR(3),
    source: ['refs/heads/alice/readme', 'f3c09b50af822b5a409cf4944d7e8f431c998843', '~alice/infra'],
    target: ['refs/heads/main', 'dca72616dcefd4144e311b537c3cfbacc78709d5', INFRA],
    more: (e) => {
      fork(e);
      expect(e.pullRequest.source.repository.projectKey).to.equal('~alice');
      expect(e.repository.projectKey).to.equal('PRJ');
    },
  }),
  'pr-opened-draft.json': pullRequest('pr:opened', 'pull_request.opened', {
    id: 4, state: 'open', url: PR(4), draft: true,
    source: ['refs/heads/feature/cache', '3e2f79f08a4fb58ceaf0426a1cdc6a6a416c359f', INFRA],
    target: ['refs/heads/main', 'dca72616dcefd4144e311b537c3cfbacc78709d5', INFRA],
    more: (e) => expect([e.pullRequest.title, e.actor.slug]).to.deep.equal(['WIP: a cache stack', 'carol']),
  }),
  // createdDate/updatedDate as ISO-8601 strings; the instant is the body's `date`.
  'pr-opened-iso-dates.json': pullRequest('pr:opened', 'pull_request.opened', {
    id: 5, state: 'open', url: PR(5),
    source: ['refs/heads/feature/db', '93212e796d836a6026783c901cbf0668661037ad', INFRA],
    target: ['refs/heads/main', 'dca72616dcefd4144e311b537c3cfbacc78709d5', INFRA],
    more: (e) => {
      notFork(e);
      expect([e.pullRequest.title, e.occurredAt]).to.deep.equal(['Add a database stack', '2031-03-04T05:07:38.000Z']);
    },
  }),
  'pr-opened-without-links.json': pullRequest('pr:opened', 'pull_request.opened', {
    id: 5, state: 'open', url: null,
    source: ['refs/heads/feature/db', '93212e796d836a6026783c901cbf0668661037ad', INFRA],
    target: ['refs/heads/main', 'dca72616dcefd4144e311b537c3cfbacc78709d5', INFRA],
    more: at('2031-03-04T05:07:38.000Z'),
  }),
  'pr-opened-non-ascii.json': pullRequest('pr:opened', 'pull_request.opened', {
    id: 6, state: 'open', url: PR(6),
    source: ['refs/heads/feature/i18n', '0f25fb0dcdbe0a19597f96cdbd3b51309a737c2a', INFRA],
    target: ['refs/heads/main', 'dca72616dcefd4144e311b537c3cfbacc78709d5', INFRA],
    more: (e) => {
      expect(e.pullRequest.title).to.equal('Ελληνικά και кириллица: обновить сеть 🚀');
      expect([e.pullRequest.author.slug, e.pullRequest.author.displayName]).to.deep.equal(['zoe', 'Zoë Ångström']);
      expect(e.actor.displayName).to.equal('Zoë Ångström');
    },
  }),

  // ---- pr:from_ref_updated
  'pr-from-ref-updated.json': pullRequest('pr:from_ref_updated', 'pull_request.source_updated', {
    id: 1, state: 'open', url: PR(1),
    source: ['refs/heads/feature/vpc', '9053fb50ccbbfcfbb1b1f0f0221195261d0b23a2', INFRA],
    target: ['refs/heads/main', 'dca72616dcefd4144e311b537c3cfbacc78709d5', INFRA],
    more: (e) => {
      expect(e.pullRequest.previousSourceCommit).to.equal('004dc669a3feccab705ca8e0e9003ad20739bc2f');
      expect([e.pullRequest.version, e.occurredAt]).to.deep.equal([1, '2031-03-04T05:06:39.000Z']);
    },
  }),

  // ---- pr:modified
  // Title edited only: previousTarget is the target as it is.
  'pr-modified-title.json': pullRequest('pr:modified', 'pull_request.modified', {
    id: 1, state: 'open', url: PR(1),
    source: ['refs/heads/feature/vpc', '9053fb50ccbbfcfbb1b1f0f0221195261d0b23a2', INFRA],
    target: ['refs/heads/main', 'dca72616dcefd4144e311b537c3cfbacc78709d5', INFRA],
    more: (e) => {
      expect(e.pullRequest.title).to.equal('Add a VPC stack for the app');
      expect(e.pullRequest.previousTarget).to.deep.equal({ ref: 'refs/heads/main', commit: 'dca72616dcefd4144e311b537c3cfbacc78709d5' });
    },
  }),
  // Retargeted main → release/1.0: previousTarget names the old target.
  'pr-modified-retargeted.json': pullRequest('pr:modified', 'pull_request.modified', {
    id: 1, state: 'open', url: PR(1),
    source: ['refs/heads/feature/vpc', '9053fb50ccbbfcfbb1b1f0f0221195261d0b23a2', INFRA],
    target: ['refs/heads/release/1.0', '079c531ad7d08910db2931ccdb54984cf3b3ba25', INFRA],
    more: (e) => {
      expect(e.pullRequest.previousTarget).to.deep.equal({ ref: 'refs/heads/main', commit: 'dca72616dcefd4144e311b537c3cfbacc78709d5' });
      expect(e.pullRequest.version).to.equal(3);
    },
  }),

  // ---- pr:reviewer:*
  'pr-reviewer-approved.json': review('pr:reviewer:approved', 'pull_request.reviewer_approved', 'bob', 'approved', 'unapproved', {
    id: 1, state: 'open', url: PR(1),
    source: ['refs/heads/feature/vpc', '9053fb50ccbbfcfbb1b1f0f0221195261d0b23a2', INFRA],
    target: ['refs/heads/release/1.0', '079c531ad7d08910db2931ccdb54984cf3b3ba25', INFRA],
  }),
  'pr-reviewer-unapproved.json': review('pr:reviewer:unapproved', 'pull_request.reviewer_unapproved', 'bob', 'unapproved', 'approved', {
    id: 1, state: 'open', url: PR(1),
    source: ['refs/heads/feature/vpc', '9053fb50ccbbfcfbb1b1f0f0221195261d0b23a2', INFRA],
    target: ['refs/heads/release/1.0', '079c531ad7d08910db2931ccdb54984cf3b3ba25', INFRA],
  }),
  'pr-reviewer-needs-work.json': review('pr:reviewer:needs_work', 'pull_request.reviewer_needs_work', 'carol', 'needs_work', 'unapproved', {
    id: 1, state: 'open', url: PR(1),
    source: ['refs/heads/feature/vpc', '9053fb50ccbbfcfbb1b1f0f0221195261d0b23a2', INFRA],
    target: ['refs/heads/release/1.0', '079c531ad7d08910db2931ccdb54984cf3b3ba25', INFRA],
  }),

  // ---- pr:comment:added
  'pr-comment-added.json': pullRequest('pr:comment:added', 'pull_request.comment_added', {
    id: 1, state: 'open', url: PR(1),
    source: ['refs/heads/feature/vpc', '9053fb50ccbbfcfbb1b1f0f0221195261d0b23a2', INFRA],
    target: ['refs/heads/release/1.0', '079c531ad7d08910db2931ccdb54984cf3b3ba25', INFRA],
    more: (e) => commentIs(e, 14, '/stacklink plan stacks/network', null, 'bob'),
  }),
  'pr-comment-added-reply.json': pullRequest('pr:comment:added', 'pull_request.comment_added', {
    id: 1, state: 'open', url: PR(1),
    source: ['refs/heads/feature/vpc', '9053fb50ccbbfcfbb1b1f0f0221195261d0b23a2', INFRA],
    target: ['refs/heads/release/1.0', '079c531ad7d08910db2931ccdb54984cf3b3ba25', INFRA],
    more: (e) => commentIs(e, 15, 'Plan looks fine to me.', 14, 'alice'),
  }),
  'pr-comment-added-non-ascii.json': pullRequest('pr:comment:added', 'pull_request.comment_added', {
    id: 6, state: 'open', url: PR(6),
    source: ['refs/heads/feature/i18n', '0f25fb0dcdbe0a19597f96cdbd3b51309a737c2a', INFRA],
    target: ['refs/heads/main', 'dca72616dcefd4144e311b537c3cfbacc78709d5', INFRA],
    more: (e) => {
      commentIs(e, 17, 'Готово ✅ — merci, Zoë! 🎉', null, 'zoe');
      expect(narrow(e, 'pull_request.comment_added').comment.author.displayName).to.equal('Zoë Ångström');
    },
  }),

  // ---- pr:merged, pr:declined, pr:deleted
  // Merged into release/1.0: the target commit is the merge commit; bob merged alice's pull request.
  'pr-merged.json': pullRequest('pr:merged', 'pull_request.merged', {
    id: 1, state: 'merged', url: PR(1),
    source: ['refs/heads/feature/vpc', '9053fb50ccbbfcfbb1b1f0f0221195261d0b23a2', INFRA],
    target: ['refs/heads/release/1.0', 'da721cd3a7bc3cd03828b424397c47a57a29dc85', INFRA],
    more: (e) => {
      expect([e.actor.slug, e.pullRequest.author.slug]).to.deep.equal(['bob', 'alice']);
      expect([e.pullRequest.version, e.occurredAt]).to.deep.equal([4, '2031-03-04T05:07:09.000Z']);
    },
  }),
  'pr-declined.json': pullRequest('pr:declined', 'pull_request.declined', {
    id: 2, state: 'declined', url: PR(2),
    source: ['refs/heads/ops/dns', 'c5dbcc9dbf8b0ce70a45b17933fa53c5959859dd', 'OPS/infra'],
    target: ['refs/heads/main', 'dca72616dcefd4144e311b537c3cfbacc78709d5', INFRA],
    more: (e) => {
      fork(e);
      expect([e.actor.slug, e.pullRequest.author.slug]).to.deep.equal(['alice', 'bob']);
      expect(e.occurredAt).to.equal('2031-03-04T05:07:21.000Z');
    },
  }),
  // Deleted while still OPEN in the body.
  'pr-deleted.json': pullRequest('pr:deleted', 'pull_request.deleted', {
    id: 3, state: 'open', url: PR(3),
    source: ['refs/heads/alice/readme', 'f3c09b50af822b5a409cf4944d7e8f431c998843', '~alice/infra'],
    target: ['refs/heads/main', 'dca72616dcefd4144e311b537c3cfbacc78709d5', INFRA],
    more: fork,
  }),

  // ---- keys we know and ignore
  'ignored-pr-comment-edited.json': ignored('pr:comment:edited'),
  'ignored-pr-comment-deleted.json': ignored('pr:comment:deleted'),
  'ignored-pr-reviewer-updated.json': ignored('pr:reviewer:updated'),
  'ignored-mirror-repo-synchronized.json': ignored('mirror:repo_synchronized'),
  'ignored-repo-modified.json': ignored('repo:modified'),
  'ignored-repo-forked.json': ignored('repo:forked'),
  'ignored-repo-comment-added.json': ignored('repo:comment:added'),
  // The manifest's `ping`: the normalizer ignores the connection test with a reason.
  'ping.json': ignored('diagnostics:ping'),

  // ---- handled keys whose body cannot give an event
  'rejected-pr-opened-short-commit.json': rejected('pr:opened', /pullRequest\.fromRef\.latestCommit/),
  'rejected-push-change-without-ref.json': rejected('repo:refs_changed', /changes\[0\].*\bref\b.*\brefId\b/),
};

describe('normalizing every fixture of our own corpus (libs/fixtures)', () => {
  const corpus = ownCorpus();
  normalizesAsTabled(corpus.webhooks, TABLE);

  it("every row's expected outcome is the manifest's (its ping is ignored by the normalizer)", () => {
    expect(corpus.webhooks).to.have.length(40);
    for (const fixture of corpus.webhooks) {
      const manifest = fixture.expected === 'ping' ? 'ignored' : fixture.expected;
      expect(TABLE[fixture.file]?.expected, fixture.file).to.equal(manifest);
    }
  });

  const run = (file: string, body: unknown = readJson(ownWebhook(file))) =>
    normalize({ ...DELIVERY, eventKey: ownWebhook(file).eventKey, body });

  it('the toCommit/commits variants of a push give the same event as the push without them', () => {
    const pairs = [
      ['push-branch-update.json', 'push-branch-update-with-commits.json'], // epoch-ms commit timestamps
      ['push-merge-without-commits.json', 'push-dc10-with-commits.json'], // DC 10.x, ISO-8601 timestamps
    ] as const;
    for (const [without, withCommits] of pairs) {
      const a = run(without);
      const b = run(withCommits);

      expect(a.kind, without).to.equal('event');
      expect(b, `${without} vs ${withCommits}`).to.deep.equal(a);
    }
  });

  // pr-opened.json is a different pull request (1, by alice); the epoch-ms twin of the ISO-date body is
  // pr-opened-without-links.json, the same opening of pull request 5 without links.
  it('the ISO-date pull request gives the event of its epoch-ms twin, which only lacks the url', () => {
    const strip = (body: { pullRequest: Record<string, unknown> }) => {
      delete body.pullRequest.createdDate;
      delete body.pullRequest.updatedDate;
      delete body.pullRequest.links;
      return body;
    };
    // The bodies differ in the dates' style and the links, nothing else.
    expect(strip(readJson(ownWebhook('pr-opened-iso-dates.json')))).to.deep.equal(
      strip(readJson(ownWebhook('pr-opened-without-links.json'))),
    );

    const iso = run('pr-opened-iso-dates.json');
    const epoch = run('pr-opened-without-links.json');
    if (iso.kind !== 'event' || epoch.kind !== 'event') expect.fail('both bodies must give an event');
    const isoPr = narrow(iso.event, 'pull_request.opened').pullRequest;
    expect(isoPr.url).to.equal(PR(5));
    const { url: _url, ...withoutUrl } = isoPr;
    expect({ ...iso.event, pullRequest: withoutUrl }).to.deep.equal(epoch.event);
  });

  it('each rejected body is a valid body with one field broken: restored, it gives an event', () => {
    const shortCommit = readJson<{ pullRequest: { fromRef: { latestCommit: string } } }>(
      ownWebhook('rejected-pr-opened-short-commit.json'),
    );
    shortCommit.pullRequest.fromRef.latestCommit = '004dc669a3feccab705ca8e0e9003ad20739bc2f';
    expect(shortCommit).to.deep.equal(readJson(ownWebhook('pr-opened.json')));
    expect(run('rejected-pr-opened-short-commit.json', shortCommit)).to.deep.equal(run('pr-opened.json'));

    const noRef = readJson<{ changes: Record<string, unknown>[] }>(
      ownWebhook('rejected-push-change-without-ref.json'),
    );
    noRef.changes[0] = {
      ref: { id: 'refs/heads/main', displayId: 'main', type: 'BRANCH' },
      refId: 'refs/heads/main',
      ...noRef.changes[0],
    };
    expect(noRef).to.deep.equal(readJson(ownWebhook('push-branch-update.json')));
    expect(run('rejected-push-change-without-ref.json', noRef)).to.deep.equal(run('push-branch-update.json'));
  });
});
