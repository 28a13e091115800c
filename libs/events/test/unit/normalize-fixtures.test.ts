import { expect } from 'chai';
import { readJson } from '@stacklink/fixtures';
import { describePublicCorpus } from '@stacklink/testing';
import { normalize } from '../../src';
import {
  DELIVERY,
  fork,
  ignored,
  narrow,
  NO_COMMIT,
  normalizesAsTabled,
  notFork,
  pullRequest,
  push,
  review,
  type Row,
} from '../support/fixture-rows';

/*
 * Every body of the public corpus `bitbucket-dc` goes through the normalizer here, when the corpus is
 * there (docs/architecture.md §11). The event key of each file is the X-Event-Key column of its
 * SOURCES.md — never the body's `eventKey`, which the Atlassian mirror samples prove wrong.
 */

// prettier-ignore
const TABLE: Record<string, Row> = {
  // ---- repo:refs_changed → push
  'argo-cd-repo_refs_changed.json': push('MYPROJECT/test-repo', [
    ['refs/heads/master', 'branch', 'updated', 'f09c8889a2d234985734958795a31589cd91ffda', '22671f0349857934857983457983475ec39f196b'],
  ], (e) => expect(e.occurredAt).to.equal('2019-06-17T09:37:57.000Z')),
  'atl-jenkins-repo_refs_changed.json': push('PROJ/repository', [
    ['refs/heads/master', 'branch', 'updated', 'ecddabb624f6f5ba43816f5926e580a5f680a932', '178864a7d521b6f5e720b386b2c2b0ef8563e0dc'],
  ], (e) => expect(e.actor).to.deep.equal({ id: 1, slug: 'admin', name: 'admin', displayName: 'Administrator' })),
  'go-playground-repo-refs-changed.json': push('~gopher/webhook-test', [
    ['refs/heads/feature/wip', 'branch', 'deleted', '32a0b8a740c2963c6f56bd8baf3dc05683d299e0', NO_COMMIT],
  ]),
  'go-scm-repo_refs_changed-branch-create.json': push('PRJ/my-repo', [
    ['refs/heads/develop', 'branch', 'created', NO_COMMIT, '208b0a5c05eddadad01f2aed8802fe0c3b3eaf5e'],
  ]),
  'go-scm-repo_refs_changed-branch-delete.json': push('PRJ/my-repo', [
    ['refs/heads/develop', 'branch', 'deleted', '208b0a5c05eddadad01f2aed8802fe0c3b3eaf5e', NO_COMMIT],
  ]),
  'go-scm-repo_refs_changed-dc10.3-branch-create.json': push('TSG/nova-ui', [
    ['refs/heads/idpdocs', 'branch', 'created', NO_COMMIT, 'b8ba6d6045f85379a2dc5b556d8a9ea23a69ac13'],
  ]),
  'go-scm-repo_refs_changed-dc10.3-push-update.json': push('PENGINE/product-engine', [
    ['refs/heads/develop', 'branch', 'updated', 'c112673b9efd82794bf73a1ff6ff8ad6708e9df5', 'd29fa17bbe9979c3f603e0f11574735da88bf27f'],
  ], (e) => expect(e.occurredAt).to.equal('2026-05-24T14:11:04.000Z')), // body date has a +0200 offset
  'go-scm-repo_refs_changed-push-update.json': push('PRJ/my-repo', [
    ['refs/heads/master', 'branch', 'updated', '5c64a07cd6c0f21b753bf261ef059c7e7633c50a', '823b2230a56056231c9425d63758fa87078a66b4'],
  ], (e) => expect(e.occurredAt).to.equal('2018-07-05T18:22:00.000Z')),
  'go-scm-repo_refs_changed-push-v5.json': push('ISCLOUD/transamerica.cloud.individual.tftest', [
    ['refs/heads/trangineni/devtfvars-1685475548410', 'branch', 'updated', 'b2b710209761a3fab9fc867aad7b7725fd0fd028', '51a33664b6d7fb5aa15063064eb230362cd02e9e'],
  ], (e) => expect(e.occurredAt).to.equal('2023-05-30T19:40:47.000Z')), // body date has a -0400 offset
  'go-scm-repo_refs_changed-tag-create.json': push('PRJ/my-repo', [
    ['refs/tags/v1.1.0', 'tag', 'created', NO_COMMIT, '823b2230a56056231c9425d63758fa87078a66b4'],
  ]),
  'go-scm-repo_refs_changed-tag-delete.json': push('PRJ/my-repo', [
    ['refs/tags/v1.1.0', 'tag', 'deleted', '823b2230a56056231c9425d63758fa87078a66b4', NO_COMMIT],
  ]),
  // Annotated tag: `after` is the tag object Bitbucket reports as toHash, not the peeled toCommit (fb522a6…).
  'jenkins-bbs-repo_refs_changed-annotated-tag-create.json': push('AMUNIZ/test-repos', [
    ['refs/tags/annotated-tag', 'tag', 'created', NO_COMMIT, '118cc36527dd376b94de5b0e6424b1dfbd4717ff'],
  ]),
  'jenkins-bbs-repo_refs_changed-branch-delete.json': push('AMUNIZ/test-repos', [
    ['refs/heads/feature/BB-1', 'branch', 'deleted', 'fb522a6f08c7c7df337312e4e65ec1b57710672e', NO_COMMIT],
  ]),
  'jenkins-bbs-repo_refs_changed-compact-branch-delete.json': push('AMUNIZ/test-repos', [
    ['refs/heads/feature/BB-1', 'branch', 'deleted', 'fb522a6f08c7c7df337312e4e65ec1b57710672e', NO_COMMIT],
  ]),
  'jenkins-bbs-repo_refs_changed-dc10.json': push('AMUNIZ/test-repos', [
    ['refs/heads/feature/BB-1', 'branch', 'created', NO_COMMIT, 'fb522a6f08c7c7df337312e4e65ec1b57710672e'],
  ]),
  'jenkins-bbs-repo_refs_changed-empty-changes.json': push('AMUNIZ/test-repos', []),
  'jenkins-bbs-repo_refs_changed-push.json': push('AMUNIZ/test-repos', [
    ['refs/heads/main', 'branch', 'updated', 'a8c13e8850dc60300be720019d1ffc1aa2fded87', '9fdd7b96d3f5c276d0b9e0bf38c879eb112d889a'],
  ]),
  'jenkins-bbs-repo_refs_changed-tag-create.json': push('AMUNIZ/test-repos', [
    ['refs/tags/simple-tag', 'tag', 'created', NO_COMMIT, 'fb522a6f08c7c7df337312e4e65ec1b57710672e'],
  ]),
  'jenkins-bbs-repo_refs_changed-tag-delete.json': push('AMUNIZ/test-repos', [
    ['refs/tags/simple-tag', 'tag', 'deleted', 'fb522a6f08c7c7df337312e4e65ec1b57710672e', NO_COMMIT],
  ]),
  'woodpecker-repo_refs_changed.json': push('DEV/deployment-automation', [
    ['refs/heads/renovate-all', 'branch', 'updated', 'e0e15221b987fd8296141c0faa6a79f7c86ca4ce', '76797d54bca87db6d1e3e82ee40622c7908aa514'],
  ], (e) => expect(e.actor.displayName).to.equal('Renovate Bot')),

  // ---- keys we know and ignore (the mirror bodies claim repo:refs_changed; the header says otherwise)
  'atl-jenkins-mirror_repo_synchronized.json': ignored('mirror:repo_synchronized'),
  'atl-jenkins-mirror_repo_synchronized-6.5.json': ignored('mirror:repo_synchronized'),
  'jenkins-bbs-mirror_repo_synchronized.json': ignored('mirror:repo_synchronized'),
  'jenkins-bbs-mirror_repo_synchronized-ref-limit-exceeded.json': ignored('mirror:repo_synchronized'),
  'jenkins-bbs-diagnostics_ping.json': ignored('diagnostics:ping'),
  'go-playground-pr-comment-deleted.json': ignored('pr:comment:deleted'),
  'go-playground-pr-comment-edited.json': ignored('pr:comment:edited'),
  'go-playground-pr-reviewer-updated.json': ignored('pr:reviewer:updated'),
  'go-playground-repo-comment-added.json': ignored('repo:comment:added'),
  'go-playground-repo-comment-deleted.json': ignored('repo:comment:deleted'),
  'go-playground-repo-comment-edited.json': ignored('repo:comment:edited'),
  'go-playground-repo-forked.json': ignored('repo:forked'),
  'go-playground-repo-modified.json': ignored('repo:modified'),

  // ---- pr:opened
  // Atlassian's samples send links.self = [null]: no url, no error.
  'atl-jenkins-pr_opened-a.json': pullRequest('pr:opened', 'pull_request.opened', {
    id: 1, state: 'open', url: null,
    source: ['refs/heads/a-branch', 'ef8755f06ee4b28c96a847a95cb8ec8ed6ddd1ca', 'PROJ/repository'],
    target: ['refs/heads/master', '178864a7d521b6f5e720b386b2c2b0ef8563e0dc', 'PROJ/repository'],
  }),
  'atl-jenkins-pr_opened-b.json': pullRequest('pr:opened', 'pull_request.opened', {
    id: 1, state: 'open', url: null,
    source: ['refs/heads/a-branch', 'ef8755f06ee4b28c96a847a95cb8ec8ed6ddd1ca', 'PROJ/repository'],
    target: ['refs/heads/master', '178864a7d521b6f5e720b386b2c2b0ef8563e0dc', 'PROJ/repository'],
  }),
  // SOURCES.md calls this a fork PR, but both refs are in AT/atlantis-example: the data wins.
  'atlantis-pr_opened.json': pullRequest('pr:opened', 'pull_request.opened', {
    id: 1, state: 'open', url: null,
    source: ['refs/heads/branch', 'bfb1af1ba9c2a2fa84cd61af67e6e1b60a22e060', 'AT/atlantis-example'],
    target: ['refs/heads/main', '3d1f26bc1c8eeb5ad94e247c92072717b9de6aa0', 'AT/atlantis-example'],
    more: notFork,
  }),
  'go-playground-pr-opened.json': pullRequest('pr:opened', 'pull_request.opened', {
    id: 5, state: 'open', url: 'https://server.bitbucket.local/users/gopher/repos/webhook-test/pull-requests/5',
    source: ['refs/heads/feature/wip', '32a0b8a740c2963c6f56bd8baf3dc05683d299e0', '~gopher/webhook-test'],
    target: ['refs/heads/master', 'cde6c45a4210afe81638aa1f3aa960d633c66a90', '~gopher/webhook-test'],
  }),
  'go-scm-pr_opened.json': pullRequest('pr:opened', 'pull_request.opened', {
    id: 2, state: 'open', url: null,
    source: ['refs/heads/develop', '208b0a5c05eddadad01f2aed8802fe0c3b3eaf5e', 'PRJ/my-repo'],
    target: ['refs/heads/master', '823b2230a56056231c9425d63758fa87078a66b4', 'PRJ/my-repo'],
    more: (e) => expect([e.occurredAt, e.pullRequest.title]).to.deep.equal(['2018-07-05T19:21:30.000Z', 'added LICENSE']),
  }),
  'go-scm-pr_opened-iso-dates.json': pullRequest('pr:opened', 'pull_request.opened', {
    id: 2, state: 'open', url: null,
    source: ['refs/heads/develop', '208b0a5c05eddadad01f2aed8802fe0c3b3eaf5e', 'PRJ/my-repo'],
    target: ['refs/heads/master', '823b2230a56056231c9425d63758fa87078a66b4', 'PRJ/my-repo'],
    more: (e) => expect(e.occurredAt).to.equal('2018-07-05T19:21:30.000Z'),
  }),
  'jenkins-bbs-pr_opened-from-tag.json': pullRequest('pr:opened', 'pull_request.opened', {
    id: 1, state: 'open', draft: false,
    url: 'http://localhost:7990/bitbucket/projects/AMUNIZ/repos/test-repos/pull-requests/1',
    source: ['refs/tags/v1.0', 'f0d122cd8b8bc393eb1953f4127a4addeae8fe97', 'AMUNIZ/test-repos'],
    target: ['refs/heads/master', 'ff55824c164c4c785810cb49f7aa44d8d68789e3', 'AMUNIZ/test-repos'],
  }),
  'jenkins-bbs-pr_opened.json': pullRequest('pr:opened', 'pull_request.opened', {
    id: 1, state: 'open', draft: false,
    url: 'http://localhost:7990/bitbucket/projects/AMUNIZ/repos/test-repos/pull-requests/1',
    source: ['refs/heads/feature/diffstat', '251fce291f086cdde68ae2a896148abb5b58033e', 'AMUNIZ/test-repos'],
    target: ['refs/heads/master', '174561d625c9623b60d8aba09b7f08ddc9df45cd', 'AMUNIZ/test-repos'],
    more: (e) => expect(e.pullRequest.title).to.equal('Feature/diffstat'),
  }),
  'woodpecker-pr_opened.json': pullRequest('pr:opened', 'pull_request.opened', {
    id: 125, state: 'open', draft: false,
    url: 'https://bitbucket.example.com/projects/DEV/repos/network-monitor/pull-requests/125',
    source: ['refs/heads/PROJ-4596', '1c7589876bc8b5e83122b1656925d679915193d4', 'DEV/network-monitor'],
    target: ['refs/heads/main', '3767a5d2d2223447d03838654baa271fc15d94df', 'DEV/network-monitor'],
    more: notFork,
  }),
  'woodpecker-pr_opened-from-fork.json': pullRequest('pr:opened', 'pull_request.opened', {
    id: 114, state: 'open', draft: false,
    url: 'https://bitbucket.example.com/projects/DEV/repos/deployment-automation/pull-requests/114',
    source: ['refs/heads/master', '716e510cecbe203618609cf103c54e040b949739', '~JOHN.DOE_EXAMPLE.COM/deployment-automation'],
    target: ['refs/heads/master', '8c49fecb1363fffdf00456cedaaff6a50613725a', 'DEV/deployment-automation'],
    more: (e) => {
      fork(e);
      expect(e.repository).to.deep.equal({ projectKey: 'DEV', slug: 'deployment-automation', id: 1684, name: 'deployment-automation' });
    },
  }),

  // ---- pr:from_ref_updated
  'go-scm-pr_from_ref_updated.json': pullRequest('pr:from_ref_updated', 'pull_request.source_updated', {
    id: 2, state: 'open', url: 'http://example.com:7990/projects/PRJ/repos/my-repo/pull-requests/2',
    source: ['refs/heads/feature-2', 'c00d0f269a9844dd168f72f6a9d78a9cff49a318', 'PRJ/my-repo'],
    target: ['refs/heads/master', '823b2230a56056231c9425d63758fa87078a66b4', 'PRJ/my-repo'],
    more: (e) => expect(e.pullRequest.previousSourceCommit).to.equal('caf52ccb18c039cd9b930ed1f7b3edfb34cb92dd'),
  }),
  'jx-go-scm-pr_from_ref_updated.json': pullRequest('pr:from_ref_updated', 'pull_request.source_updated', {
    id: 2, state: 'open', url: null,
    source: ['refs/heads/develop', '208b0a5c05eddadad01f2aed8802fe0c3b3eaf5e', 'PRJ/my-repo'],
    target: ['refs/heads/master', '823b2230a56056231c9425d63758fa87078a66b4', 'PRJ/my-repo'],
    more: (e) => expect(e.pullRequest.previousSourceCommit).to.equal('99f3ea32043ba3ecaa28de6046b420de70257d80'),
  }),

  // ---- pr:modified
  'go-playground-pr-modified.json': pullRequest('pr:modified', 'pull_request.modified', {
    id: 3, state: 'open', url: 'https://server.bibucket.local/users/gopher/repos/webhook-test/pull-requests/3',
    source: ['refs/heads/feature/wip', '591f702354b3abf1faaca4d23811620d1b2ac984', '~gopher/webhook-test'],
    target: ['refs/heads/master', '038e7b67735e54f6de8f1c5d533c6751df524f6c', '~gopher/webhook-test'],
    more: (e) => expect(e.pullRequest.previousTarget).to.deep.equal({ ref: 'refs/heads/master', commit: '038e7b67735e54f6de8f1c5d533c6751df524f6c' }),
  }),
  'go-scm-pr_modified-meta.json': pullRequest('pr:modified', 'pull_request.modified', {
    id: 6, state: 'open', url: 'http://example.com:7990/projects/PRJ/repos/my-repo/pull-requests/6',
    source: ['refs/heads/cleanup', 'a268fca7b65055e13f60ac1a2c9a527615f113ca', '~jcitizen/my-repo'],
    target: ['refs/heads/master', 'a4dae7792cf772d72149730091141ef48bba8697', 'PRJ/my-repo'],
    more: (e) => {
      fork(e);
      expect(e.pullRequest.previousTarget).to.deep.equal({ ref: 'refs/heads/master', commit: 'a4dae7792cf772d72149730091141ef48bba8697' });
    },
  }),
  // Retargeted: the previous target differs from the current one.
  'go-scm-pr_modified-toref.json': pullRequest('pr:modified', 'pull_request.modified', {
    id: 2, state: 'open', url: 'http://example.com:7990/projects/PRJ/repos/my-repo/pull-requests/2',
    source: ['refs/heads/feature-2', 'c00d0f269a9844dd168f72f6a9d78a9cff49a318', 'PRJ/my-repo'],
    target: ['refs/heads/master', '0667def9e377a8fa76ce67b6d4e53e21b246f030', 'PRJ/my-repo'],
    more: (e) => expect(e.pullRequest.previousTarget).to.deep.equal({ ref: 'refs/heads/wrong', commit: '2bbad782fd5453ded95fc5ce8b16839ff10615e0' }),
  }),
  'jx-go-scm-pr_modified.json': pullRequest('pr:modified', 'pull_request.modified', {
    id: 1, state: 'open', url: null,
    source: ['refs/heads/new-branch', '5a705e60111a4213da46839d9cbf4fc43639b771', '~ADMIN/example'],
    target: ['refs/heads/master', '860c4eb4ed0f969b47144234ba13c31c498cca69', '~ADMIN/example'],
    more: (e) => {
      expect(e.pullRequest.title).to.equal('A new title');
      expect(e.pullRequest.previousTarget).to.deep.equal({ ref: 'refs/heads/master', commit: '860c4eb4ed0f969b47144234ba13c31c498cca69' });
    },
  }),

  // ---- pr:reviewer:*
  'go-playground-pr-reviewer-approved.json': review('pr:reviewer:approved', 'pull_request.reviewer_approved', 'tux', 'approved', 'needs_work', {
    id: 5, state: 'open', url: 'https://server.bitbucket.local/users/gopher/repos/webhook-test/pull-requests/5',
    source: ['refs/heads/feature/wip', '32a0b8a740c2963c6f56bd8baf3dc05683d299e0', '~gopher/webhook-test'],
    target: ['refs/heads/master', 'cde6c45a4210afe81638aa1f3aa960d633c66a90', '~gopher/webhook-test'],
  }),
  'go-playground-pr-reviewer-needs-work.json': review('pr:reviewer:needs_work', 'pull_request.reviewer_needs_work', 'tux', 'needs_work', 'unapproved', {
    id: 5, state: 'open', url: 'https://server.bitbucket.local/users/gopher/repos/webhook-test/pull-requests/5',
    source: ['refs/heads/feature/wip', '32a0b8a740c2963c6f56bd8baf3dc05683d299e0', '~gopher/webhook-test'],
    target: ['refs/heads/master', 'cde6c45a4210afe81638aa1f3aa960d633c66a90', '~gopher/webhook-test'],
  }),
  'go-playground-pr-reviewer-unapproved.json': review('pr:reviewer:unapproved', 'pull_request.reviewer_unapproved', 'tux', 'unapproved', 'needs_work', {
    id: 5, state: 'open', url: 'https://server.bitbucket.local/users/gopher/repos/webhook-test/pull-requests/5',
    source: ['refs/heads/feature/wip', '32a0b8a740c2963c6f56bd8baf3dc05683d299e0', '~gopher/webhook-test'],
    target: ['refs/heads/master', 'cde6c45a4210afe81638aa1f3aa960d633c66a90', '~gopher/webhook-test'],
  }),
  'jx-go-scm-pr_reviewer_approved.json': review('pr:reviewer:approved', 'pull_request.reviewer_approved', 'user', 'approved', 'unapproved', {
    id: 1, state: 'open', url: null,
    source: ['refs/heads/a-branch', 'ef8755f06ee4b28c96a847a95cb8ec8ed6ddd1ca', 'PROJ/repository'],
    target: ['refs/heads/master', '178864a7d521b6f5e720b386b2c2b0ef8563e0dc', 'PROJ/repository'],
  }),
  'jx-go-scm-pr_reviewer_needs_work.json': review('pr:reviewer:needs_work', 'pull_request.reviewer_needs_work', 'user', 'needs_work', 'unapproved', {
    id: 1, state: 'open', url: null,
    source: ['refs/heads/a-branch', 'ef8755f06ee4b28c96a847a95cb8ec8ed6ddd1ca', 'PROJ/repository'],
    target: ['refs/heads/master', '178864a7d521b6f5e720b386b2c2b0ef8563e0dc', 'PROJ/repository'],
  }),
  'jx-go-scm-pr_reviewer_unapproved.json': review('pr:reviewer:unapproved', 'pull_request.reviewer_unapproved', 'user', 'unapproved', 'approved', {
    id: 1, state: 'open', url: null,
    source: ['refs/heads/a-branch', 'ef8755f06ee4b28c96a847a95cb8ec8ed6ddd1ca', 'PROJ/repository'],
    target: ['refs/heads/master', '178864a7d521b6f5e720b386b2c2b0ef8563e0dc', 'PROJ/repository'],
  }),

  // ---- pr:merged
  'atl-jenkins-pr_merged.json': pullRequest('pr:merged', 'pull_request.merged', {
    id: 9, state: 'merged', url: null,
    source: ['refs/heads/admin/file-1505781548644', '45f9690c928915a5e1c4366d5ee1985eea03f05d', 'PROJ/repository'],
    target: ['refs/heads/master', '8d2ad38c918fa6943859fca2176c89ea98b92a21', 'PROJ/repository'],
    // The merger acted; the author stays the author.
    more: (e) => expect([e.actor.slug, e.pullRequest.author.slug]).to.deep.equal(['user', 'admin']),
  }),
  'atlantis-pr_merged.json': pullRequest('pr:merged', 'pull_request.merged', {
    id: 2, state: 'merged', url: null,
    source: ['refs/heads/branch', '86a574157f5a2dadaf595b9f06c70fdfdd039912', 'FK/atlantis-example'],
    target: ['refs/heads/main', '120cff6e1452086c90689c810c15b534381ba61b', 'AT/atlantis-example'],
    more: fork,
  }),
  'go-playground-pr-merged.json': pullRequest('pr:merged', 'pull_request.merged', {
    id: 5, state: 'merged', url: 'https://server.bitbucket.local/users/gopher/repos/webhook-test/pull-requests/5',
    source: ['refs/heads/feature/wip', '32a0b8a740c2963c6f56bd8baf3dc05683d299e0', '~gopher/webhook-test'],
    target: ['refs/heads/master', 'cde6c45a4210afe81638aa1f3aa960d633c66a90', '~gopher/webhook-test'],
  }),
  'go-scm-pr_merged.json': pullRequest('pr:merged', 'pull_request.merged', {
    id: 3, state: 'merged', url: null,
    source: ['refs/heads/develop', 'b9eaed50a03c073b20dfa82e5e753d295e7f0e56', 'PRJ/my-repo'],
    target: ['refs/heads/master', '823b2230a56056231c9425d63758fa87078a66b4', 'PRJ/my-repo'],
  }),
  'go-scm-pr_merged-iso-dates.json': pullRequest('pr:merged', 'pull_request.merged', {
    id: 3, state: 'merged', url: null,
    source: ['refs/heads/develop', 'b9eaed50a03c073b20dfa82e5e753d295e7f0e56', 'PRJ/my-repo'],
    target: ['refs/heads/master', '823b2230a56056231c9425d63758fa87078a66b4', 'PRJ/my-repo'],
  }),
  'woodpecker-pr_merged.json': pullRequest('pr:merged', 'pull_request.merged', {
    id: 111, state: 'merged', draft: false,
    url: 'https://bitbucket.example.com/projects/DEV/repos/deployment-automation/pull-requests/111',
    source: ['refs/heads/PROJ-4584', '993203acecdb65ffe947424d0917768b0e5c3903', 'DEV/deployment-automation'],
    target: ['refs/heads/master', '2bbf6d0c36db47566a934ab8f8e391e1ee54d392', 'DEV/deployment-automation'],
  }),

  // ---- pr:declined
  'atl-jenkins-pr_declined.json': pullRequest('pr:declined', 'pull_request.declined', {
    id: 10, state: 'declined', url: null,
    source: ['refs/heads/decline-me', '2d9fb6b9a46eafb1dcef7b008d1a429d45ca742c', 'PROJ/repository'],
    target: ['refs/heads/master', '7e48f426f0a6e47c5b5e862c31be6ca965f82c9c', 'PROJ/repository'],
  }),
  'atlantis-pr_declined.json': pullRequest('pr:declined', 'pull_request.declined', {
    id: 1, state: 'declined', url: null,
    source: ['refs/heads/branch', '46955afd9b6c5dfa8753727d0669925e057e69b1', 'AT/atlantis-example'],
    target: ['refs/heads/main', '120cff6e1452086c90689c810c15b534381ba61b', 'AT/atlantis-example'],
  }),
  'go-playground-pr-declined.json': pullRequest('pr:declined', 'pull_request.declined', {
    id: 2, state: 'declined', url: 'https://server.bitbucket.local/users/gopher/repos/webhook-test/pull-requests/2',
    source: ['refs/heads/feature/wip', '50a8ee1fae3abf75738a85f9039b4b2de4947174', '~gopher/webhook-test'],
    target: ['refs/heads/master', '038e7b67735e54f6de8f1c5d533c6751df524f6c', '~gopher/webhook-test'],
  }),
  'go-scm-pr_declined.json': pullRequest('pr:declined', 'pull_request.declined', {
    id: 2, state: 'declined', url: null,
    source: ['refs/heads/develop', 'b9eaed50a03c073b20dfa82e5e753d295e7f0e56', 'PRJ/my-repo'],
    target: ['refs/heads/master', '823b2230a56056231c9425d63758fa87078a66b4', 'PRJ/my-repo'],
    more: (e) => expect([e.pullRequest.version, e.occurredAt]).to.deep.equal([2, '2018-07-05T19:30:48.000Z']),
  }),
  'go-scm-pr_declined-iso-dates.json': pullRequest('pr:declined', 'pull_request.declined', {
    id: 2, state: 'declined', url: null,
    source: ['refs/heads/develop', 'b9eaed50a03c073b20dfa82e5e753d295e7f0e56', 'PRJ/my-repo'],
    target: ['refs/heads/master', '823b2230a56056231c9425d63758fa87078a66b4', 'PRJ/my-repo'],
    more: (e) => expect([e.pullRequest.version, e.occurredAt]).to.deep.equal([1, '2018-07-05T19:33:20.000Z']),
  }),

  // ---- pr:deleted (a pull request may be deleted while open or after it was declined)
  'atl-jenkins-pr_deleted.json': pullRequest('pr:deleted', 'pull_request.deleted', {
    id: 10, state: 'open', url: null,
    source: ['refs/heads/decline-me', '2d9fb6b9a46eafb1dcef7b008d1a429d45ca742c', 'PROJ/repository'],
    target: ['refs/heads/master', '7e48f426f0a6e47c5b5e862c31be6ca965f82c9c', 'PROJ/repository'],
  }),
  'go-playground-pr-deleted.json': pullRequest('pr:deleted', 'pull_request.deleted', {
    id: 2, state: 'open', url: 'https://server.bitbucket.local/users/gopher/repos/webhook-test/pull-requests/2',
    source: ['refs/heads/feature/wip', '50a8ee1fae3abf75738a85f9039b4b2de4947174', '~gopher/webhook-test'],
    target: ['refs/heads/master', '038e7b67735e54f6de8f1c5d533c6751df524f6c', '~gopher/webhook-test'],
  }),
  'go-scm-pr_deleted.json': pullRequest('pr:deleted', 'pull_request.deleted', {
    id: 2, state: 'declined', url: null,
    source: ['refs/heads/develop', 'b9eaed50a03c073b20dfa82e5e753d295e7f0e56', 'PRJ/my-repo'],
    target: ['refs/heads/master', '823b2230a56056231c9425d63758fa87078a66b4', 'PRJ/my-repo'],
  }),
  'jenkins-bbs-pr_deleted.json': pullRequest('pr:deleted', 'pull_request.deleted', {
    id: 1, state: 'open', draft: false,
    url: 'http://localhost:7990/bitbucket/projects/AMUNIZ/repos/test-repos/pull-requests/1',
    source: ['refs/heads/feature/diffstat', '251fce291f086cdde68ae2a896148abb5b58033e', 'AMUNIZ/test-repos'],
    target: ['refs/heads/master', '174561d625c9623b60d8aba09b7f08ddc9df45cd', 'AMUNIZ/test-repos'],
  }),
  // User id 0 is a valid id.
  'jx-go-scm-pr_deleted.json': pullRequest('pr:deleted', 'pull_request.deleted', {
    id: 2, state: 'declined', url: null,
    source: ['refs/heads/develop', 'b9eaed50a03c073b20dfa82e5e753d295e7f0e56', 'PRJ/my-repo'],
    target: ['refs/heads/master', '823b2230a56056231c9425d63758fa87078a66b4', 'PRJ/my-repo'],
    more: (e) => expect(e.actor.id).to.equal(0),
  }),

  // ---- pr:comment:added
  'atlantis-pr_comment_added.json': pullRequest('pr:comment:added', 'pull_request.comment_added', {
    id: 1, state: 'open', url: null,
    source: ['refs/heads/branch', 'bfb1af1ba9c2a2fa84cd61af67e6e1b60a22e060', 'FK/atlantis-example'],
    target: ['refs/heads/main', '3d1f26bc1c8eeb5ad94e247c92072717b9de6aa0', 'AT/atlantis-example'],
    more: (e) => {
      fork(e);
      expect(narrow(e, 'pull_request.comment_added').comment).to.deep.equal({
        id: 1, text: 'atlantis plan', author: { id: 1, slug: 'lkysow', name: 'lkysow', displayName: 'Luke Kysow' },
      });
    },
  }),
  'go-playground-pr-comment-added.json': pullRequest('pr:comment:added', 'pull_request.comment_added', {
    id: 2, state: 'open', url: 'https://server.bitbucket.local/users/gopher/repos/webhook-test/pull-requests/2',
    source: ['refs/heads/feature/wip', '50a8ee1fae3abf75738a85f9039b4b2de4947174', '~gopher/webhook-test'],
    target: ['refs/heads/master', '038e7b67735e54f6de8f1c5d533c6751df524f6c', '~gopher/webhook-test'],
    more: (e) => {
      const c = narrow(e, 'pull_request.comment_added').comment;
      expect([c.id, c.text, c.parentId, c.author.slug]).to.deep.equal([167, 'test', 164, 'gopher']);
    },
  }),
  'jx-go-scm-pr_comment_added.json': pullRequest('pr:comment:added', 'pull_request.comment_added', {
    id: 11, state: 'open', url: null,
    source: ['refs/heads/comment-pr', 'ddc19f786996396d57e17c8f6d1d05d00318ad10', 'PROJ/repository'],
    target: ['refs/heads/master', '7e48f426f0a6e47c5b5e862c31be6ca965f82c9c', 'PROJ/repository'],
    more: (e) => {
      const c = narrow(e, 'pull_request.comment_added').comment;
      expect([c.id, c.text, c.parentId]).to.deep.equal([62, 'I am a PR comment', 43]);
    },
  }),
};

describePublicCorpus(
  'bitbucket-dc',
  'normalizing every capture of the public Bitbucket DC corpus',
  (corpus) => {
    normalizesAsTabled(corpus.webhooks, TABLE);

    it('the epoch-ms and ISO-date variants of the same pull request give the same event', () => {
      const pairs = [
        ['go-scm-pr_opened.json', 'go-scm-pr_opened-iso-dates.json', 'pr:opened'],
        ['go-scm-pr_merged.json', 'go-scm-pr_merged-iso-dates.json', 'pr:merged'],
      ] as const;
      const body = (file: string): unknown => readJson(corpus.webhooks.find((f) => f.file === file)!);
      for (const [epoch, iso, eventKey] of pairs) {
        const a = normalize({ ...DELIVERY, eventKey, body: body(epoch) });
        const b = normalize({ ...DELIVERY, eventKey, body: body(iso) });

        expect(a, `${epoch} vs ${iso}`).to.deep.equal(b);
      }
    });
  },
);
