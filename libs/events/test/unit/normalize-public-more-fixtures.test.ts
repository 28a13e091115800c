import { expect } from 'chai';
import { readJson } from '@stacklink/fixtures';
import { BITBUCKET_DC_MORE_OUTCOMES, describePublicCorpus } from '@stacklink/testing';
import { normalize } from '../../src';
import {
  type ChangeRow,
  DELIVERY,
  fork,
  ignored,
  narrow,
  NO_COMMIT,
  normalizesAsTabled,
  notFork,
  pullRequest,
  type PullRequestEvents,
  type PullRequestFacts,
  push,
  rejected,
  review,
  type Row,
} from '../support/fixture-rows';

/*
 * Every body of the second public corpus `bitbucket-dc-more` goes through the normalizer here, when the
 * corpus is there (docs/architecture.md §11). The event key of each file is the X-Event-Key column of its
 * SOURCES.md; the outcome of each row is the one BITBUCKET_DC_MORE_OUTCOMES writes out (checked below).
 *
 * Several of these bodies carry real people's names, user slugs and e-mail addresses. None of them is
 * written here: for those people the rows assert user ids, and only that a slug is a string. Slugs such as
 * 'admin', 'username', 'me-slug' or 'some-reviewer-slug' are placeholders and are asserted.
 */

type ReviewType =
  'pull_request.reviewer_approved' | 'pull_request.reviewer_unapproved' | 'pull_request.reviewer_needs_work';

/** A review by a real person: the reviewer is asserted by user id, the slug only as a string. */
function reviewedBy(
  eventKey: string,
  type: ReviewType,
  reviewerId: number,
  status: string,
  previousStatus: string,
  facts: PullRequestFacts,
): Row {
  return pullRequest(eventKey, type, {
    ...facts,
    more: (e) => {
      const r = narrow(e, type).review;
      expect([r.reviewer.id, r.status, r.previousStatus]).to.deep.equal([reviewerId, status, previousStatus]);
      expect(r.reviewer.slug).to.be.a('string');
      facts.more?.(e);
    },
  });
}

/** A row whose body and header disagree on the state: everything but the state is asserted. */
function stateNotAsserted(
  eventKey: string,
  type: Exclude<PullRequestEvents['type'], ReviewType>,
  facts: Omit<PullRequestFacts, 'state'>,
): Row {
  return {
    eventKey,
    expected: type,
    facts: (event) => {
      const state = (narrow(event, type) as PullRequestEvents).pullRequest.state;
      pullRequest(eventKey, type, { ...facts, state }).facts!(event);
    },
  };
}

/**
 * A push to a personal repository (project key '~' + the owner's user name) whose owner is a real person
 * named in the key: the key is asserted to be the pushing user's, upper-cased, with its dot, not written out.
 */
function pushToOwnPersonalRepository(slug: string, repositoryId: number, changes: ChangeRow[]): Row {
  return {
    eventKey: 'repo:refs_changed',
    expected: 'push',
    facts: (event) => {
      const e = narrow(event, 'push');
      expect(e.repository.projectKey).to.equal(`~${e.actor.slug.toUpperCase()}`);
      expect(e.repository.projectKey).to.match(/^~[A-Z]+\.[A-Z]+$/);
      expect([e.repository.slug, e.repository.id, e.actor.id]).to.deep.equal([slug, repositoryId, 1363]);
      push(`${e.repository.projectKey}/${slug}`, changes).facts!(event);
    },
  };
}

// prettier-ignore
const TABLE: Record<string, Row> = {
  // ---- repo:refs_changed → push
  'bitrise__metrics_test.go-testPushWebhookPayload.json': push('PROJECT_1/rep_1', [
    ['refs/heads/master', 'branch', 'updated', '197a3e0d2f9a2b3ed1c4fe5923d5dd701bee9fdd', 'a00945762949b7b787ecabc388c0e20b1b85f0b4'],
  ], (e) => expect([e.occurredAt, e.actor.id, e.actor.slug]).to.deep.equal(['2023-01-13T11:26:25.000Z', 2, 'admin'])), // +1100
  'devinfra-tg__repository_refs-changed.json': push('DEVINFRA/amtgroup.devinfra.test', [
    ['refs/heads/test', 'branch', 'updated', 'c2f62b96eacb2021b6918037a4233416aa8241e6', '42a89e7626fe860d723555ba1c8ea09870fa7295'],
  ], (e) => {
    expect([e.occurredAt, e.actor.id, e.repository.id]).to.deep.equal(['2018-07-13T21:43:06.000Z', 1, 605]);
    expect(e.actor.slug).to.be.a('string');
  }),
  'gwt__bitbucket-server-tag.feature-docstring1.json': push('PROJECT_1/violations-test', [
    ['refs/tags/hej1', 'tag', 'created', NO_COMMIT, 'd424e4bf83e1c832d7eb5433a36b17fe8b4a5265'],
  ], (e) => expect(e.occurredAt).to.equal('2018-09-04T08:10:33.000Z')), // +0200
  // Two tags in one push: Bitbucket's order kept.
  'gwt__bitbucket-server-tag.feature-docstring2.json': push('PROJECT_1/violations-test', [
    ['refs/tags/hej1', 'tag', 'created', NO_COMMIT, 'd424e4bf83e1c832d7eb5433a36b17fe8b4a5265'],
    ['refs/tags/hej2', 'tag', 'created', NO_COMMIT, '1234e4bf83e1c832d7eb5433a36b17fe8b4a1414'],
  ]),
  // Two branches created in one push; the body starts with a newline and a tab.
  'ovh-cds__tasks_bitbucket_test.go-bitbucketMultiplePushEvent.json': pushToOwnPersonalRepository('sseclient', 6096, [
    ['refs/heads/name-of-branch', 'branch', 'created', NO_COMMIT, '9f4fac7ec5642099982a86f584f2c4a362adb670'],
    ['refs/heads/name-of-branch-bis', 'branch', 'created', NO_COMMIT, '9f4fac7ec5642099982a86f584f2c4a362adb670'],
  ]),
  'ovh-cds__tasks_bitbucket_test.go-bitbucketPushEvent.json': pushToOwnPersonalRepository('sseclient', 6096, [
    ['refs/heads/name-of-branch', 'branch', 'created', NO_COMMIT, '9f4fac7ec5642099982a86f584f2c4a362adb670'],
  ]),
  'zulip__repo_push_delete_branch.json': push('SBOX/sandbox', [
    ['refs/heads/branch2', 'branch', 'deleted', 'c7fccd35e163571148c42a3e8b11aef6661d19b8', NO_COMMIT],
  ], (e) => expect(e.occurredAt).to.equal('2019-03-21T04:14:17.000Z')), // +0530
  'zulip__repo_push_delete_tag.json': push('SBOX/sandbox', [
    ['refs/tags/test-tag', 'tag', 'deleted', 'b223099667fb4f71dd4f6f7d61cd2b7cdb184b37', NO_COMMIT],
  ]),
  'zulip__repo_push_update_multiple_branches.json': push('SBOX/sandbox', [
    ['refs/heads/branch1', 'branch', 'updated', '9e5afb9f11a396eae4bf24755505d931b530649a', '3980c2be32a7e23c795741d5dc1a2eecb9b85d6d'],
    ['refs/heads/master', 'branch', 'updated', 'cb2e368ba3aca8a510f89667ae97b56d6a323db7', 'fc43d13cff1abb28631196944ba4fc4ad06a2cf2'],
  ], (e) => expect([e.occurredAt, e.actor.id, e.repository.id]).to.deep.equal(['2019-03-17T13:39:40.000Z', 1, 2])),

  // ---- repo:refs_changed bodies that cannot give a valid push: a 400 naming the field
  'bitrise__bitbucketserver_test.go-sampleCodePushData.json': rejected('repo:refs_changed', /"changes\[0\]\.fromHash" with value "from-hash-1"/),
  'bitrise__bitbucketserver_test.go-sampleTagPushData.json': rejected('repo:refs_changed', /"actor\.id" is required/),
  'gwt__bitbucket-server-refs_changed.feature-docstring1.json': rejected('repo:refs_changed', /"changes\[0\]\.fromHash".*"changes\[0\]\.toHash"/),
  'jenkins-bbpush__repo_refs_changed.json': rejected('repo:refs_changed', /"changes\[0\]\.toHash" with value "2857aa1131679a1c46d79a1097ebab06a6d6291a3"/),

  // ---- keys we know and ignore
  'bitrise__bitbucketserver_test.go-samplePRCommentEditedData.json': ignored('pr:comment:edited'),
  'devinfra-tg__pull-request-comment_deleted.json': ignored('pr:comment:deleted'),
  'devinfra-tg__pull-request-comment_edited.json': ignored('pr:comment:edited'),
  'gwt__hmac-bitbucket-server-payload.json': ignored('repo:comment:added'),
  'zulip__repo_forked.json': ignored('repo:forked'),
  'zulip__repo_modified.json': ignored('repo:modified'),

  // ---- pr:opened
  'devinfra-tg__pull-request_opened.json': pullRequest('pr:opened', 'pull_request.opened', {
    id: 1, state: 'open', url: null,
    source: ['refs/heads/test', 'c2f62b96eacb2021b6918037a4233416aa8241e6', 'DEVINFRA/amtgroup.devinfra.test'],
    target: ['refs/heads/master', '09abd4387b49df2f5f66525b2678c32b2eed1baf', 'DEVINFRA/amtgroup.devinfra.test'],
    more: (e) => {
      notFork(e);
      expect(e.repository).to.deep.equal({ projectKey: 'DEVINFRA', slug: 'amtgroup.devinfra.test', id: 605, name: 'amtgroup.devinfra.test' });
      expect([e.pullRequest.title, e.pullRequest.version, e.occurredAt]).to.deep.equal(['test', 0, '2018-07-10T16:14:42.000Z']);
    },
  }),
  // The repository is named 'some-repo' but its slug is 'some-repo-slug': the slug comes from slug.
  'jenkins-bbpush__pr_opened.json': pullRequest('pr:opened', 'pull_request.opened', {
    id: 61, state: 'open', url: 'http://example.org/projects/ABC/repos/some-repo/pull-requests/61',
    source: ['refs/heads/develop', '2a3416062a594c4a89d3459aef11b10a25e4d28a', 'ABC/some-repo-slug'],
    target: ['refs/heads/master', '04051a3ea93c401264e4c0a288e75f544e4c8aa0', 'ABC/some-repo-slug'],
    more: (e) => {
      expect(e.repository).to.deep.equal({ projectKey: 'ABC', slug: 'some-repo-slug', id: 99, name: 'some-repo' });
      expect(e.occurredAt).to.equal('2020-01-28T14:44:53.000Z');
    },
  }),
  'jenkins-bbpush__pr_opened_no_clone_property.json': pullRequest('pr:opened', 'pull_request.opened', {
    id: 61, state: 'open', url: 'http://example.org/projects/ABC/repos/some-repo/pull-requests/61',
    source: ['refs/heads/develop', '2a3416062a594c4a89d3459aef11b10a25e4d28a', 'ABC/some-repo-slug'],
    target: ['refs/heads/master', '04051a3ea93c401264e4c0a288e75f544e4c8aa0', 'ABC/some-repo-slug'],
    more: (e) => expect(e.repository).to.deep.equal({ projectKey: 'ABC', slug: 'some-repo-slug', id: 99, name: 'some-repo' }),
  }),
  // From a personal fork into SBOX/sandbox: the event belongs to the target.
  'zulip__pull_request_opened_without_reviewers.json': pullRequest('pr:opened', 'pull_request.opened', {
    id: 1, state: 'open', url: 'http://139.59.64.214:7990/projects/SBOX/repos/sandbox/pull-requests/1',
    source: ['refs/heads/branch1', '3980c2be32a7e23c795741d5dc1a2eecb9b85d6d', '~HYPRO999/sandbox-fork'],
    target: ['refs/heads/master', '508d1b67f1f8f3a25f543a030a7a178894aa9907', 'SBOX/sandbox'],
    more: (e) => {
      fork(e);
      expect([e.occurredAt, e.actor.id, e.pullRequest.author.id]).to.deep.equal(['2019-03-21T12:52:20.000Z', 1, 1]);
    },
  }),

  // ---- pr:from_ref_updated
  // No previousFromHash in the body: previousSourceCommit stays absent, not invented.
  'bitrise__bitbucketserver_test.go-samplePullRequestFromRefUpdatedData.json': pullRequest('pr:from_ref_updated', 'pull_request.source_updated', {
    id: 1, state: 'open', url: null,
    source: ['refs/heads/a-branch', 'ef8755f06ee4b28c96a847a95cb8ec8ed6ddd1ca', 'PROJ/repository'],
    target: ['refs/heads/master', '178864a7d521b6f5e720b386b2c2b0ef8563e0dc', 'PROJ/repository'],
    more: (e) => {
      expect(e.pullRequest).not.to.have.property('previousSourceCommit');
      expect(e.occurredAt).to.equal('2017-09-18T23:58:11.000Z'); // +1000
    },
  }),
  // Both latestCommit values have 39 hex digits.
  'jenkins-bbpush__pr_from_ref_updated.json': rejected('pr:from_ref_updated', /"pullRequest\.fromRef\.latestCommit" with value "522764f1602ae7d4abcd18197827cafdb3aef11".*"pullRequest\.toRef\.latestCommit"/),

  // ---- pr:modified
  // No previousTarget in the body: previousTarget stays absent.
  'bitrise__bitbucketserver_test.go-samplePullRequestModifiedData.json': pullRequest('pr:modified', 'pull_request.modified', {
    id: 1, state: 'open', url: null,
    source: ['refs/heads/a-branch', 'ef8755f06ee4b28c96a847a95cb8ec8ed6ddd1ca', 'PROJ/repository'],
    target: ['refs/heads/master', '178864a7d521b6f5e720b386b2c2b0ef8563e0dc', 'PROJ/repository'],
    more: (e) => expect(e.pullRequest).not.to.have.property('previousTarget'),
  }),
  // A title/description edit: the previous target is the current one.
  'jenkins-bbpush__pr_modified.json': pullRequest('pr:modified', 'pull_request.modified', {
    id: 13, state: 'open', url: 'http://example.org/projects/ABC/repos/some-repo/pull-requests/13',
    source: ['refs/heads/develop', 'c44479dab8ff2218a6023a82214eb739713e9c57', 'ABC/some-repo-slug'],
    target: ['refs/heads/master', '0ebb2143c60e66364d0c206fbed6aa5c1bf29a3f', 'ABC/some-repo-slug'],
    more: (e) => {
      expect(e.pullRequest.previousTarget).to.deep.equal({ ref: 'refs/heads/master', commit: '0ebb2143c60e66364d0c206fbed6aa5c1bf29a3f' });
      expect(e.pullRequest.version).to.equal(2);
    },
  }),
  // previousTarget carries both latestCommit and latestChangeset.
  'zulip__pull_request_modified.json': pullRequest('pr:modified', 'pull_request.modified', {
    id: 1, state: 'open', url: 'http://139.59.64.214:7990/projects/SBOX/repos/sandbox/pull-requests/1',
    source: ['refs/heads/branch1', '3980c2be32a7e23c795741d5dc1a2eecb9b85d6d', '~HYPRO999/sandbox-fork'],
    target: ['refs/heads/master', '508d1b67f1f8f3a25f543a030a7a178894aa9907', 'SBOX/sandbox'],
    more: (e) => {
      fork(e);
      expect(e.pullRequest.previousTarget).to.deep.equal({ ref: 'refs/heads/master', commit: '508d1b67f1f8f3a25f543a030a7a178894aa9907' });
    },
  }),

  // ---- pr:reviewer:*
  'devinfra-tg__pull-request_approved.json': reviewedBy('pr:reviewer:approved', 'pull_request.reviewer_approved', 1, 'approved', 'unapproved', {
    id: 65, state: 'open', url: null,
    source: ['refs/heads/feature/INFODIODE-184', '72639f55368595c78adbcdeb3f2ee25af2a3a539', 'INFODIODE/amtgroup.infodiode.v1'],
    target: ['refs/heads/master', '179a065ca8ffa6e86ecae7bb0a96aa06a20696d3', 'INFODIODE/amtgroup.infodiode.v1'],
    more: (e) => {
      expect([e.actor.id, e.pullRequest.author.id, e.repository.id]).to.deep.equal([1, 602, 546]);
      expect(e.pullRequest.title).to.equal('feat(core): Выполнено переименование полей настроек FTP');
    },
  }),
  // Copied from the approved body with the key changed: the participant still says APPROVED (and
  // previousStatus UNAPPROVED), but the status comes from the routed key.
  'devinfra-tg__pull-request_unapproved.json': reviewedBy('pr:reviewer:unapproved', 'pull_request.reviewer_unapproved', 1, 'unapproved', 'unapproved', {
    id: 65, state: 'open', url: null,
    source: ['refs/heads/feature/INFODIODE-184', '72639f55368595c78adbcdeb3f2ee25af2a3a539', 'INFODIODE/amtgroup.infodiode.v1'],
    target: ['refs/heads/master', '179a065ca8ffa6e86ecae7bb0a96aa06a20696d3', 'INFODIODE/amtgroup.infodiode.v1'],
  }),
  'devinfra-tg__pull-request_needs-work.json': reviewedBy('pr:reviewer:needs_work', 'pull_request.reviewer_needs_work', 1, 'needs_work', 'unapproved', {
    id: 62, state: 'open', url: null,
    source: ['refs/heads/feature/INFODIODE-173', '688e898f61e78e891f8b8d02850fb16835d3fea3', 'INFODIODE/amtgroup.infodiode.v1'],
    target: ['refs/heads/master', '9558289a9747d18997ba90398f18594be164fea9', 'INFODIODE/amtgroup.infodiode.v1'],
    more: (e) => expect([e.pullRequest.version, e.occurredAt]).to.deep.equal([7, '2018-07-06T13:58:01.000Z']),
  }),
  // The actor is the reviewer; the author is someone else.
  'jenkins-bbpush__pr_reviewer_approved.json': review('pr:reviewer:approved', 'pull_request.reviewer_approved', 'some-reviewer-slug', 'approved', 'unapproved', {
    id: 12, state: 'open', url: 'http://example.org/projects/ABC/repos/some-repo/pull-requests/12',
    source: ['refs/heads/develop', '1eb452ab914eafb25d22608cde3b055034175123', 'ABC/some-repo-slug'],
    target: ['refs/heads/master', '1234a72726e35b9e94649b4360a50a45e3927b23', 'ABC/some-repo-slug'],
  }),
  'zulip__pull_request_approved.json': reviewedBy('pr:reviewer:approved', 'pull_request.reviewer_approved', 4, 'approved', 'unapproved', {
    id: 6, state: 'open', url: 'http://139.59.64.214:7990/projects/SBOX/repos/sandbox/pull-requests/6',
    source: ['refs/heads/master', '556bde1a2442562568fce6016de570516ac1c4f6', '~HYPRO999/sandbox-fork'],
    target: ['refs/heads/master', 'd46b4d2e3326e106147c0ea748f7defba29d9e1e', 'SBOX/sandbox'],
    more: (e) => {
      fork(e);
      expect([e.actor.id, e.pullRequest.author.id]).to.deep.equal([4, 1]);
    },
  }),
  'zulip__pull_request_needs_work.json': reviewedBy('pr:reviewer:needs_work', 'pull_request.reviewer_needs_work', 4, 'needs_work', 'unapproved', {
    id: 6, state: 'open', url: 'http://139.59.64.214:7990/projects/SBOX/repos/sandbox/pull-requests/6',
    source: ['refs/heads/master', '556bde1a2442562568fce6016de570516ac1c4f6', '~HYPRO999/sandbox-fork'],
    target: ['refs/heads/master', 'd46b4d2e3326e106147c0ea748f7defba29d9e1e', 'SBOX/sandbox'],
    more: fork,
  }),
  'zulip__pull_request_unapproved.json': reviewedBy('pr:reviewer:unapproved', 'pull_request.reviewer_unapproved', 4, 'unapproved', 'approved', {
    id: 6, state: 'open', url: 'http://139.59.64.214:7990/projects/SBOX/repos/sandbox/pull-requests/6',
    source: ['refs/heads/master', '556bde1a2442562568fce6016de570516ac1c4f6', '~HYPRO999/sandbox-fork'],
    target: ['refs/heads/master', 'd46b4d2e3326e106147c0ea748f7defba29d9e1e', 'SBOX/sandbox'],
    more: fork,
  }),

  // ---- pr:merged
  // The body is the pr:opened body with its eventKey changed (state OPEN, version 0): the header routes it
  // to pull_request.merged; the state is not asserted because body and header disagree.
  'devinfra-tg__pull-request_merged.json': stateNotAsserted('pr:merged', 'pull_request.merged', {
    url: null, id: 1,
    source: ['refs/heads/test', 'c2f62b96eacb2021b6918037a4233416aa8241e6', 'DEVINFRA/amtgroup.devinfra.test'],
    target: ['refs/heads/master', '09abd4387b49df2f5f66525b2678c32b2eed1baf', 'DEVINFRA/amtgroup.devinfra.test'],
  }),
  // fromRef.latestCommit has 39 hex digits.
  'jenkins-bbpush__pr_merged.json': rejected('pr:merged', /"pullRequest\.fromRef\.latestCommit" with value "522764f1602ae7d4abcd18197827cafdb3aef11"/),
  // A fork pull request merged by a reviewer; properties.mergeCommit is not part of the event.
  'zulip__pull_request_merged.json': pullRequest('pr:merged', 'pull_request.merged', {
    id: 6, state: 'merged', url: 'http://139.59.64.214:7990/projects/SBOX/repos/sandbox/pull-requests/6',
    source: ['refs/heads/master', '556bde1a2442562568fce6016de570516ac1c4f6', '~HYPRO999/sandbox-fork'],
    target: ['refs/heads/master', 'd46b4d2e3326e106147c0ea748f7defba29d9e1e', 'SBOX/sandbox'],
    more: (e) => {
      fork(e);
      expect([e.actor.id, e.pullRequest.author.id, e.pullRequest.version]).to.deep.equal([4, 1, 2]);
      expect(e.occurredAt).to.equal('2019-03-26T10:22:24.000Z');
    },
  }),

  // ---- pr:declined
  'devinfra-tg__pull-request_declined.json': pullRequest('pr:declined', 'pull_request.declined', {
    id: 1, state: 'declined', url: null,
    source: ['refs/heads/test', 'c2f62b96eacb2021b6918037a4233416aa8241e6', 'DEVINFRA/amtgroup.devinfra.test'],
    target: ['refs/heads/master', '09abd4387b49df2f5f66525b2678c32b2eed1baf', 'DEVINFRA/amtgroup.devinfra.test'],
    more: (e) => expect(e.pullRequest.version).to.equal(2),
  }),
  'jenkins-bbpush__pr_declined.json': pullRequest('pr:declined', 'pull_request.declined', {
    id: 7, state: 'declined', url: 'http://bitbucket:7990/projects/PPRPLUG/repos/hellophp/pull-requests/7',
    source: ['refs/heads/bugfix/tst-2', '6efe3d09aff4bb7f53ddf2f18a6fba52aa209d1a', 'PPRPLUG/hellophp'],
    target: ['refs/heads/master', '047882eedc24d603a03a30e6ea16b3a607afda1b', 'PPRPLUG/hellophp'],
    more: (e) => expect([e.actor.slug, e.pullRequest.version, e.occurredAt]).to.deep.equal(['me-slug', 6, '2021-05-29T20:18:01.000Z']),
  }),

  // ---- pr:deleted (a deleted pull request keeps its last state)
  'devinfra-tg__pull-request_deleted.json': pullRequest('pr:deleted', 'pull_request.deleted', {
    id: 1, state: 'declined', url: null,
    source: ['refs/heads/test', 'c2f62b96eacb2021b6918037a4233416aa8241e6', 'DEVINFRA/amtgroup.devinfra.test'],
    target: ['refs/heads/master', '09abd4387b49df2f5f66525b2678c32b2eed1baf', 'DEVINFRA/amtgroup.devinfra.test'],
  }),

  // ---- pr:comment:added
  // links.self points at pull request 2 although the id is 1: the url is what the link says.
  'bitrise__bitbucketserver_test.go-samplePRCommentAddedData.json': pullRequest('pr:comment:added', 'pull_request.comment_added', {
    id: 1, state: 'open', draft: false, url: 'https://bitbucket.example.com/projects/TEST/repos/repo/pull-requests/2',
    source: ['refs/heads/test-branch', '535dd99fabbecd4594c3dc844f387413fe6b97d4', 'TEST/repo'],
    target: ['refs/heads/master', '70b0d7be6f073634f7910a2cb5bbed9ec1306dff', 'TEST/repo'],
    more: (e) => {
      const c = narrow(e, 'pull_request.comment_added').comment;
      expect([c.id, c.text, c.author.id, c.author.slug]).to.deep.equal([7, 'This is a test comment.', 3, 'admin']);
      expect(c).not.to.have.property('parentId');
      expect(e.occurredAt).to.equal('2025-10-27T15:54:08.000Z');
    },
  }),
  // Cyrillic title and comment text, byte for byte; no links on the pull request.
  'devinfra-tg__pull-request-comment_added.json': pullRequest('pr:comment:added', 'pull_request.comment_added', {
    id: 62, state: 'open', url: null,
    source: ['refs/heads/feature/INFODIODE-173', 'ce1b35d497122f5bbe3db031138562917b2e5964', 'INFODIODE/amtgroup.infodiode.v1'],
    target: ['refs/heads/master', '169836760dccb636c7ae2b720b505f4960d3b30f', 'INFODIODE/amtgroup.infodiode.v1'],
    more: (e) => {
      const c = narrow(e, 'pull_request.comment_added').comment;
      expect([c.id, c.author.id]).to.deep.equal([2800, 1]);
      expect(c.text).to.equal('Параметры должны быть в образе ОС (/etc/sysctl.d), чтобы их легко можно было отредактировать во время разработки.');
      expect(e.pullRequest.title).to.equal('feat(core): Настройки параметров kernel перенесены в manager.sh');
      expect(c.author.slug).to.be.a('string');
      expect(e.pullRequest.author.id).to.equal(602);
    },
  }),
  // A personal repository: project key '~username' in lower case, as published.
  'jenkins-bbpush__pr_comment_created.json': pullRequest('pr:comment:added', 'pull_request.comment_added', {
    id: 2, state: 'open', url: 'https://bitbucket.company.com/bitbucket/users/username/repos/test-repo/pull-requests/2',
    source: ['refs/heads/test-pr2', '035b93b54276127a81cbb397ff102d286d0322b1', '~username/test-repo'],
    target: ['refs/heads/master', '035d4168c0023fbc92d4a0df02312cf59d30df2c', '~username/test-repo'],
    more: (e) => {
      const c = narrow(e, 'pull_request.comment_added').comment;
      expect([c.id, c.text, c.author.id, c.author.slug]).to.deep.equal([1684336, 'Comment content', 34221, 'username']);
      expect([e.pullRequest.version, e.occurredAt]).to.deep.equal([133, '2020-08-11T16:45:12.000Z']); // -0700
    },
  }),
};

describe('the table of the second public corpus', () => {
  // Runs with or without the corpus: the gateway's table and this one cannot drift apart.
  it('expects for every file what BITBUCKET_DC_MORE_OUTCOMES writes out, and has a row for each of its files', () => {
    const expected = Object.fromEntries(Object.entries(TABLE).map(([file, row]) => [file, row.expected]));

    expect(Object.keys(TABLE)).to.have.length(44);
    expect(expected).to.deep.equal(BITBUCKET_DC_MORE_OUTCOMES);
  });
});

describePublicCorpus(
  'bitbucket-dc-more',
  'normalizing every capture of the second public corpus',
  (corpus) => {
    normalizesAsTabled(corpus.webhooks, TABLE);

    it('a pull request with and without repository.links.clone gives the same event', () => {
      const body = (file: string): unknown => readJson(corpus.webhooks.find((f) => f.file === file)!);
      const a = normalize({
        ...DELIVERY,
        eventKey: 'pr:opened',
        body: body('jenkins-bbpush__pr_opened.json'),
      });
      const b = normalize({
        ...DELIVERY,
        eventKey: 'pr:opened',
        body: body('jenkins-bbpush__pr_opened_no_clone_property.json'),
      });

      expect(a).to.deep.equal(b);
    });
  },
);
