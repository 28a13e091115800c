import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Renderer, webhookDate } from './payloads';
import { startSimulator, type BitbucketSimulator, type ScenarioResult } from './simulator';
import type { SimComment, SimCommit } from './state';

/**
 * The repository's own Bitbucket Data Center fixtures: webhook bodies and REST answers produced by
 * this simulator on a fixed clock, a manifest saying what each file shows and which outcome or model
 * it stands for, and signature vectors computed with the openssl CLI. Written to
 * libs/fixtures/bitbucket-dc by `npm run fixtures`; a test keeps the files in step with this builder.
 * All names, people, hosts and secrets are invented.
 */

export const GENERATED_BY = 'libs/bitbucket-simulator (npm run fixtures)';

/** An outcome of normalize() in libs/events: a canonical type, or what happens to the delivery instead. */
export type FixtureOutcome =
  | 'push'
  | 'pull_request.opened'
  | 'pull_request.source_updated'
  | 'pull_request.modified'
  | 'pull_request.reviewer_approved'
  | 'pull_request.reviewer_unapproved'
  | 'pull_request.reviewer_needs_work'
  | 'pull_request.merged'
  | 'pull_request.declined'
  | 'pull_request.deleted'
  | 'pull_request.comment_added'
  | 'ignored'
  | 'ping'
  | 'rejected';

export interface WebhookFixture {
  file: string;
  /** The `X-Event-Key` header the body travels with. */
  eventKey: string;
  expected: FixtureOutcome;
  shows: string;
}

export interface ApiFixture {
  file: string;
  /** `METHOD path` as sent; request bodies say so. */
  request: string;
  /** The @stacklink/bitbucket parser for the body: `parseX`, or `Page<parseX>` for a page of X. */
  model: string;
}

export interface SignatureFixture {
  file: string;
  secret: string;
  /** `X-Hub-Signature` for the exact bytes of webhooks/<file>. */
  header: string;
}

export interface FixtureManifest {
  generatedBy: string;
  webhooks: WebhookFixture[];
  api: ApiFixture[];
  signatures: SignatureFixture[];
}

export interface FixtureCorpus {
  manifest: FixtureManifest;
  /** Path relative to libs/fixtures/bitbucket-dc (`webhooks/x.json`, `api/y.json`, `manifest.json`) → content. */
  files: Map<string, string>;
}

/** 2031-03-04T05:06:07Z; every reading of the clock moves it on by CLOCK_STEP_MS. */
export const CLOCK_START_MS = Date.UTC(2031, 2, 4, 5, 6, 7);
export const CLOCK_STEP_MS = 1_000;
export const BASE_URL = 'https://bitbucket.example.test';

const ADMIN = { name: 'stacklink-ci', token: 'fixture-token-not-secret' };

type Json = Record<string, unknown>;

/** Pretty JSON as the files hold it: 2-space indent and a trailing newline. */
export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Runs the scenario on a fresh simulator and returns every fixture file. Deterministic. */
export async function buildFixtureCorpus(): Promise<FixtureCorpus> {
  let clock = CLOCK_START_MS;
  const now = (): number => {
    const t = clock;
    clock += CLOCK_STEP_MS;
    return t;
  };
  const capture = await startCapture();
  const sim = await startSimulator({ now, baseUrl: BASE_URL, webhookTarget: { url: capture.url } });
  try {
    return await script(sim, capture);
  } finally {
    await sim.close();
    await capture.close();
  }
}

async function script(sim: BitbucketSimulator, capture: Capture): Promise<FixtureCorpus> {
  const { state } = sim;
  const render = new Renderer(state, () => BASE_URL);
  const files = new Map<string, string>();
  const manifest: FixtureManifest = { generatedBy: GENERATED_BY, webhooks: [], api: [], signatures: [] };

  /** The body of the delivery of `eventKey` in `result`, exactly as the capture server received it. */
  const delivered = (result: ScenarioResult, eventKey: string): Json => {
    const delivery = result.deliveries.find((d) => d.eventKey === eventKey);
    if (!delivery) throw new Error(`no ${eventKey} delivery`);
    const raw = capture.bodies.get(delivery.requestId);
    if (raw === undefined) throw new Error(`the ${eventKey} delivery did not arrive`);
    if (raw.toString('utf8') !== delivery.body)
      throw new Error(`the ${eventKey} delivery changed on the way`);
    return JSON.parse(raw.toString('utf8')) as Json;
  };
  const webhook = (
    file: string,
    eventKey: string,
    expected: FixtureOutcome,
    shows: string,
    body: unknown,
  ) => {
    if (files.has(`webhooks/${file}`)) throw new Error(`two fixtures named ${file}`);
    files.set(`webhooks/${file}`, formatJson(body));
    manifest.webhooks.push({ file, eventKey, expected, shows });
  };
  /** An envelope as the simulator writes one, for keys it does not emit itself. */
  const envelope = (eventKey: string, actor: string, payload: Json): Json => ({
    eventKey,
    date: webhookDate(new Date(state.now())),
    actor: render.user(actor),
    ...payload,
  });
  const gitPerson = (person: unknown): Json => {
    const p = person as Json;
    return { name: p.displayName ?? p.name, emailAddress: p.emailAddress };
  };
  /** A commit as Bitbucket 7+ puts it in repo:refs_changed (`toCommit`, `commits`). */
  const pushedCommit = (commit: SimCommit, iso: boolean, expandParents: boolean): Json => {
    const json = render.commit(commit);
    const time = (ms: unknown) => (iso ? new Date(ms as number).toISOString() : ms);
    return {
      ...json,
      author: gitPerson(json.author),
      authorTimestamp: time(json.authorTimestamp),
      committer: gitPerson(json.committer),
      committerTimestamp: time(json.committerTimestamp),
      ...(expandParents
        ? { parents: commit.parents.map((id) => pushedCommit(state.commits.get(id)!, iso, false)) }
        : {}),
    };
  };
  /** Adds `toCommit` and `commits` (newest first: what the push brought) built from the simulator's commits. */
  const withCommits = (body: Json, iso: boolean): Json => {
    const change = (body.changes as Json[])[0]!;
    const head = state.commits.get(change.toHash as string)!;
    const known = state.ancestors(change.fromHash as string);
    const pushed = [...state.ancestors(head.id)]
      .filter((sha) => !known.has(sha))
      .map((sha) => state.commits.get(sha)!)
      .sort((a, b) => b.seq - a.seq);
    return {
      ...body,
      toCommit: pushedCommit(head, iso, true),
      commits: pushed.map((c) => pushedCommit(c, iso, false)),
    };
  };

  // ---- people, projects, repositories (all invented) ----
  sim.addUser({ ...ADMIN, permission: 'admin', displayName: 'Stacklink CI', email: 'ci@example.test' });
  sim.addUser({
    name: 'alice',
    token: 'alice-token',
    displayName: 'Alice Archer',
    email: 'alice@example.test',
  });
  sim.addUser({ name: 'bob', token: 'bob-token', displayName: 'Bob Baker', email: 'bob@example.test' });
  sim.addUser({
    name: 'carol',
    token: 'carol-token',
    displayName: 'Carol Chen',
    email: 'carol@example.test',
  });
  sim.addUser({ name: 'zoe', token: 'zoe-token', displayName: 'Zoë Ångström', email: 'zoe@example.test' });
  sim.addProject({ key: 'PRJ', name: 'Platform' });
  sim.addProject({ key: 'OPS', name: 'Operations' });
  sim.addProject({ key: '~alice', name: 'Alice Archer' });
  const infra = sim.addRepository({
    project: 'PRJ',
    slug: 'infra',
    name: 'infra',
    files: ['README.md', 'stacks/network/main.tf', 'stacks/app/main.tf'],
  });
  sim.addRepository({ project: 'PRJ', slug: 'infra-modules', files: ['modules/vpc/main.tf'] });
  sim.addRepository({ project: 'PRJ', slug: 'docs', files: ['index.md'] });
  sim.addRepository({ project: 'OPS', slug: 'infra', forkOf: { project: 'PRJ', repo: 'infra' } });
  sim.addRepository({ project: '~alice', slug: 'infra', forkOf: { project: 'PRJ', repo: 'infra' } });
  const PRJ = { project: 'PRJ', repo: 'infra' };

  // ---- repo:refs_changed ----
  const update = await sim.push({
    ...PRJ,
    branch: 'main',
    files: ['stacks/network/main.tf'],
    message: 'Widen the private subnets',
    actor: 'alice',
  });
  const updateBody = delivered(update, 'repo:refs_changed');
  webhook(
    'push-branch-update.json',
    'repo:refs_changed',
    'push',
    'branch updated (UPDATE), one change, no toCommit/commits',
    updateBody,
  );
  webhook(
    'push-branch-update-with-commits.json',
    'repo:refs_changed',
    'push',
    'the same branch update as Bitbucket 7.x–9.x sends it, with toCommit and commits (epoch-ms commit timestamps); built from the simulator commits',
    withCommits(updateBody, false),
  );

  const created = await sim.push({
    ...PRJ,
    branch: 'feature/vpc',
    files: ['stacks/network/vpc.tf'],
    message: 'Add a VPC stack',
    actor: 'alice',
  });
  webhook(
    'push-branch-created.json',
    'repo:refs_changed',
    'push',
    'branch created (ADD, fromHash 40 zeros)',
    delivered(created, 'repo:refs_changed'),
  );

  const multi = await sim.pushRefs({
    ...PRJ,
    actor: 'bob',
    changes: [
      { branch: 'release/1.0', files: ['CHANGELOG.md'], message: 'Start release 1.0' },
      { branch: 'main', files: ['stacks/app/main.tf'], message: 'Scale the app to three nodes' },
      { branch: 'hotfix/dns', files: ['stacks/network/dns.tf'], message: 'Fix the resolver address' },
      { branch: 'feature/db', files: [{ path: 'stacks/db/main.tf' }], message: 'Add a database stack' },
    ],
  });
  webhook(
    'push-multi-ref.json',
    'repo:refs_changed',
    'push',
    'one push creating three branches and updating one (four changes)',
    delivered(multi, 'repo:refs_changed'),
  );

  const lightweight = await sim.pushRefs({ ...PRJ, actor: 'alice', changes: [{ tag: 'v1.0.0' }] });
  webhook(
    'push-tag-created-lightweight.json',
    'repo:refs_changed',
    'push',
    'lightweight tag created (ref.type TAG, toHash = the commit)',
    delivered(lightweight, 'repo:refs_changed'),
  );

  const annotated = await sim.pushRefs({
    ...PRJ,
    actor: 'alice',
    changes: [{ tag: 'v1.1.0', annotated: true, message: 'Release 1.1.0' }],
  });
  webhook(
    'push-tag-created-annotated.json',
    'repo:refs_changed',
    'push',
    'annotated tag created: toHash is the tag object, not the commit it names',
    delivered(annotated, 'repo:refs_changed'),
  );

  const tagDeleted = await sim.pushRefs({ ...PRJ, actor: 'alice', changes: [{ deleteTag: 'v1.0.0' }] });
  webhook(
    'push-tag-deleted.json',
    'repo:refs_changed',
    'push',
    'tag deleted (DELETE, toHash 40 zeros)',
    delivered(tagDeleted, 'repo:refs_changed'),
  );

  const branchDeleted = await sim.pushRefs({
    ...PRJ,
    actor: 'bob',
    changes: [{ deleteBranch: 'hotfix/dns' }],
  });
  webhook(
    'push-branch-deleted.json',
    'repo:refs_changed',
    'push',
    'branch deleted (DELETE, toHash 40 zeros)',
    delivered(branchDeleted, 'repo:refs_changed'),
  );

  const empty = await sim.pushRefs({ ...PRJ, actor: 'bob', changes: [] });
  webhook(
    'push-empty-changes.json',
    'repo:refs_changed',
    'push',
    'a push with an empty changes array',
    delivered(empty, 'repo:refs_changed'),
  );

  // ---- a pull request's life: PR 1, feature/vpc → main ----
  const opened = await sim.openPullRequest({
    ...PRJ,
    from: 'feature/vpc',
    to: 'main',
    title: 'Add a VPC stack',
    description: 'Creates the VPC the app stack will move into.',
    author: 'alice',
    reviewers: ['bob', 'carol'],
  });
  const pr1 = { ...PRJ, id: opened.id };
  webhook(
    'pr-opened.json',
    'pr:opened',
    'pull_request.opened',
    'pull request within one repository, with two reviewers',
    delivered(opened, 'pr:opened'),
  );

  const sourceUpdated = await sim.updatePullRequestSource({
    ...pr1,
    files: ['stacks/network/vpc.tf', 'stacks/network/outputs.tf'],
    message: 'Export the VPC id',
    actor: 'alice',
  });
  webhook(
    'pr-from-ref-updated.json',
    'pr:from_ref_updated',
    'pull_request.source_updated',
    'new commit on the source branch, with previousFromHash',
    delivered(sourceUpdated, 'pr:from_ref_updated'),
  );

  const titled = await sim.editPullRequest({ ...pr1, title: 'Add a VPC stack for the app', actor: 'alice' });
  webhook(
    'pr-modified-title.json',
    'pr:modified',
    'pull_request.modified',
    'title edited only: previousTitle differs, previousTarget is the unchanged target',
    delivered(titled, 'pr:modified'),
  );

  const retargeted = await sim.retargetPullRequest({ ...pr1, to: 'release/1.0', actor: 'alice' });
  webhook(
    'pr-modified-retargeted.json',
    'pr:modified',
    'pull_request.modified',
    'target branch changed main → release/1.0: previousTarget names the old target',
    delivered(retargeted, 'pr:modified'),
  );

  const approved = await sim.review({ ...pr1, user: 'bob', status: 'APPROVED' });
  webhook(
    'pr-reviewer-approved.json',
    'pr:reviewer:approved',
    'pull_request.reviewer_approved',
    'reviewer approved: participant and previousStatus UNAPPROVED',
    delivered(approved, 'pr:reviewer:approved'),
  );
  const unapproved = await sim.review({ ...pr1, user: 'bob', status: 'UNAPPROVED' });
  webhook(
    'pr-reviewer-unapproved.json',
    'pr:reviewer:unapproved',
    'pull_request.reviewer_unapproved',
    'reviewer withdrew the approval: previousStatus APPROVED',
    delivered(unapproved, 'pr:reviewer:unapproved'),
  );
  const needsWork = await sim.review({ ...pr1, user: 'carol', status: 'NEEDS_WORK' });
  webhook(
    'pr-reviewer-needs-work.json',
    'pr:reviewer:needs_work',
    'pull_request.reviewer_needs_work',
    'reviewer marked the pull request as needing work',
    delivered(needsWork, 'pr:reviewer:needs_work'),
  );

  const topComment = await sim.addComment({ ...pr1, text: '/stacklink plan stacks/network', actor: 'bob' });
  webhook(
    'pr-comment-added.json',
    'pr:comment:added',
    'pull_request.comment_added',
    'top-level comment (a /stacklink command)',
    delivered(topComment, 'pr:comment:added'),
  );
  const reply = await sim.addComment({
    ...pr1,
    text: 'Plan looks fine to me.',
    parentId: topComment.commentId,
    actor: 'alice',
  });
  webhook(
    'pr-comment-added-reply.json',
    'pr:comment:added',
    'pull_request.comment_added',
    'reply to a comment: commentParentId and comment.parent',
    delivered(reply, 'pr:comment:added'),
  );

  // pr:comment:edited — edited through the REST API (which sends no webhook), the body built as Bitbucket's.
  const topSim = state.comments.find((c) => c.id === topComment.commentId)!;
  const previousText = topSim.text;
  await rest(
    sim,
    'PUT',
    `/rest/api/latest/projects/PRJ/repos/infra/pull-requests/${pr1.id}/comments/${topSim.id}`,
    {
      text: '/stacklink plan stacks/network stacks/app',
      version: topSim.version,
    },
  );
  webhook(
    'ignored-pr-comment-edited.json',
    'pr:comment:edited',
    'ignored',
    'comment edited: the comment at version 1 and previousComment',
    envelope('pr:comment:edited', 'bob', {
      pullRequest: render.pullRequest(state.pullRequest(infra.id, pr1.id)!),
      comment: render.comment(topSim),
      previousComment: previousText,
    }),
  );

  // pr:comment:deleted — a reply added, then removed from the simulator after rendering what was deleted.
  const doomed = await sim.addComment({
    ...pr1,
    text: 'Wrong pull request, sorry.',
    parentId: topComment.commentId,
    actor: 'carol',
  });
  const doomedSim = state.comments.find((c) => c.id === doomed.commentId)!;
  const deletedBody = envelope('pr:comment:deleted', 'carol', {
    pullRequest: render.pullRequest(state.pullRequest(infra.id, pr1.id)!),
    comment: render.comment(doomedSim),
    commentParentId: topComment.commentId,
  });
  state.comments.splice(state.comments.indexOf(doomedSim), 1);
  webhook(
    'ignored-pr-comment-deleted.json',
    'pr:comment:deleted',
    'ignored',
    'reply deleted, with commentParentId',
    deletedBody,
  );

  const merged = await sim.mergePullRequest({ ...pr1, actor: 'bob' });
  webhook(
    'pr-merged.json',
    'pr:merged',
    'pull_request.merged',
    'pull request merged (state MERGED, closedDate)',
    delivered(merged, 'pr:merged'),
  );
  const mergePush = delivered(merged, 'repo:refs_changed');
  webhook(
    'push-merge-without-commits.json',
    'repo:refs_changed',
    'push',
    'the merge moving release/1.0, as servers before 7.x send it: no toCommit/commits',
    mergePush,
  );
  webhook(
    'push-dc10-with-commits.json',
    'repo:refs_changed',
    'push',
    'the same merge push as Bitbucket DC 10.x sends it: toCommit (parents expanded) and commits with ISO-8601 commit timestamps; built from the simulator commits',
    withCommits(mergePush, true),
  );

  // ---- pull requests from forks ----
  await sim.push({
    project: 'OPS',
    repo: 'infra',
    branch: 'ops/dns',
    files: ['stacks/network/dns.tf'],
    actor: 'bob',
  });
  const fromFork = await sim.openPullRequest({
    ...PRJ,
    fromRepo: { project: 'OPS', repo: 'infra' },
    from: 'ops/dns',
    to: 'main',
    title: 'Point the resolver at the new DNS servers',
    author: 'bob',
    reviewers: ['alice'],
  });
  webhook(
    'pr-opened-fork-project.json',
    'pr:opened',
    'pull_request.opened',
    'pull request from a fork in another project (OPS/infra → PRJ/infra)',
    delivered(fromFork, 'pr:opened'),
  );
  const declined = await sim.declinePullRequest({ ...PRJ, id: fromFork.id, actor: 'alice' });
  webhook(
    'pr-declined.json',
    'pr:declined',
    'pull_request.declined',
    'pull request from a fork declined (state DECLINED, closedDate)',
    delivered(declined, 'pr:declined'),
  );

  await sim.push({
    project: '~alice',
    repo: 'infra',
    branch: 'alice/readme',
    files: ['README.md'],
    message: 'Explain the stacks layout',
    actor: 'alice',
  });
  const fromPersonal = await sim.openPullRequest({
    ...PRJ,
    fromRepo: { project: '~alice', repo: 'infra' },
    from: 'alice/readme',
    to: 'main',
    title: 'Explain the stacks layout',
    author: 'alice',
  });
  webhook(
    'pr-opened-fork-personal.json',
    'pr:opened',
    'pull_request.opened',
    'pull request from a fork in a personal project (~alice), links under /users/alice',
    delivered(fromPersonal, 'pr:opened'),
  );
  const deleted = await sim.deletePullRequest({ ...PRJ, id: fromPersonal.id, actor: 'alice' });
  webhook(
    'pr-deleted.json',
    'pr:deleted',
    'pull_request.deleted',
    'pull request deleted (still OPEN in the body)',
    delivered(deleted, 'pr:deleted'),
  );

  // ---- pull request variants ----
  await sim.push({ ...PRJ, branch: 'feature/cache', files: ['stacks/cache/main.tf'], actor: 'carol' });
  const draft = await sim.openPullRequest({
    ...PRJ,
    from: 'feature/cache',
    to: 'main',
    title: 'WIP: a cache stack',
    author: 'carol',
    draft: true,
  });
  webhook(
    'pr-opened-draft.json',
    'pr:opened',
    'pull_request.opened',
    'draft pull request (draft: true, Bitbucket 8.x+)',
    delivered(draft, 'pr:opened'),
  );

  const plain = await sim.openPullRequest({
    ...PRJ,
    from: 'feature/db',
    to: 'main',
    title: 'Add a database stack',
    author: 'bob',
  });
  const plainBody = delivered(plain, 'pr:opened');
  const pr = plainBody.pullRequest as Json;
  webhook(
    'pr-opened-iso-dates.json',
    'pr:opened',
    'pull_request.opened',
    'pull request with createdDate/updatedDate as ISO-8601 strings, as DC 10.x sends some dates',
    {
      ...plainBody,
      pullRequest: {
        ...pr,
        createdDate: new Date(pr.createdDate as number).toISOString(),
        updatedDate: new Date(pr.updatedDate as number).toISOString(),
      },
    },
  );
  const { links: _links, ...withoutLinks } = pr;
  webhook(
    'pr-opened-without-links.json',
    'pr:opened',
    'pull_request.opened',
    'pull request without links (no URL for the event)',
    { ...plainBody, pullRequest: withoutLinks },
  );

  // ---- non-ASCII: title, description, comment and display name ----
  await sim.push({ ...PRJ, branch: 'feature/i18n', files: ['stacks/app/locales.tf'], actor: 'zoe' });
  const i18n = await sim.openPullRequest({
    ...PRJ,
    from: 'feature/i18n',
    to: 'main',
    title: 'Ελληνικά και кириллица: обновить сеть 🚀',
    description: 'Résumé: ajoute les régions — «Ζωή» 🌍\nВторая строка.',
    author: 'zoe',
    reviewers: ['alice'],
  });
  const pr6 = { ...PRJ, id: i18n.id };
  webhook(
    'pr-opened-non-ascii.json',
    'pr:opened',
    'pull_request.opened',
    'title and description in Greek, Cyrillic, French and emoji; author display name Zoë Ångström',
    delivered(i18n, 'pr:opened'),
  );
  const i18nComment = await sim.addComment({ ...pr6, text: 'Готово ✅ — merci, Zoë! 🎉', actor: 'zoe' });
  webhook(
    'pr-comment-added-non-ascii.json',
    'pr:comment:added',
    'pull_request.comment_added',
    'comment in Cyrillic, French and emoji by Zoë Ångström',
    delivered(i18nComment, 'pr:comment:added'),
  );

  // ---- keys Stacklink ignores, in Bitbucket's shapes ----
  const pr6Sim = state.pullRequest(infra.id, pr6.id)!;
  pr6Sim.reviewers.push({ user: 'carol', status: 'UNAPPROVED' });
  pr6Sim.version += 1;
  pr6Sim.updatedDate = state.now();
  webhook(
    'ignored-pr-reviewer-updated.json',
    'pr:reviewer:updated',
    'ignored',
    'a reviewer added to a pull request (addedReviewers, removedReviewers)',
    envelope('pr:reviewer:updated', 'zoe', {
      pullRequest: render.pullRequest(pr6Sim),
      addedReviewers: [render.user('carol')],
      removedReviewers: [],
    }),
  );

  webhook(
    'ignored-mirror-repo-synchronized.json',
    'mirror:repo_synchronized',
    'ignored',
    'a mirror finished syncing the changes of a push (mirrorServer, syncType, refLimitExceeded)',
    envelope('mirror:repo_synchronized', 'alice', {
      repository: render.repository(infra),
      changes: updateBody.changes,
      mirrorServer: { id: 'A1B2-C3D4-E5F6-0718', name: 'mirror-eu' },
      syncType: 'INCREMENTAL',
      refLimitExceeded: false,
    }),
  );

  webhook(
    'ignored-repo-modified.json',
    'repo:modified',
    'ignored',
    'repository renamed (old and new)',
    envelope('repo:modified', 'alice', {
      old: render.repository(infra),
      new: render.repository({ ...infra, name: 'Platform infrastructure' }),
    }),
  );

  sim.addProject({ key: '~bob', name: 'Bob Baker' });
  const bobFork = sim.addRepository({
    project: '~bob',
    slug: 'infra',
    forkOf: { project: 'PRJ', repo: 'infra' },
  });
  webhook(
    'ignored-repo-forked.json',
    'repo:forked',
    'ignored',
    'repository forked into a personal project (repository.origin)',
    envelope('repo:forked', 'bob', { repository: render.repository(bobFork) }),
  );

  const head = infra.refs.get('refs/heads/main')!;
  const commitComment: SimComment = {
    id: state.id(),
    version: 0,
    text: 'Why three nodes?',
    author: 'carol',
    repoId: infra.id,
    pullRequestId: 0,
    createdDate: state.now(),
    updatedDate: state.now(),
  };
  webhook(
    'ignored-repo-comment-added.json',
    'repo:comment:added',
    'ignored',
    'comment on a commit (comment, commit)',
    envelope('repo:comment:added', 'carol', {
      comment: render.comment(commitComment),
      repository: render.repository(infra),
      commit: head,
    }),
  );

  const ping = await sim.ping();
  webhook(
    'ping.json',
    'diagnostics:ping',
    'ping',
    '"Test connection": unsigned, body {"test": true}',
    delivered(ping, 'diagnostics:ping'),
  );

  // ---- bodies of handled keys that cannot give an event ----
  const shortSha = structuredClone(delivered(opened, 'pr:opened'));
  const fromRef = (shortSha.pullRequest as Json).fromRef as Json;
  fromRef.latestCommit = (fromRef.latestCommit as string).slice(0, 39);
  webhook(
    'rejected-pr-opened-short-commit.json',
    'pr:opened',
    'rejected',
    'pr:opened whose fromRef.latestCommit has 39 hex digits',
    shortSha,
  );
  const noRef = structuredClone(updateBody);
  for (const change of noRef.changes as Json[]) {
    delete change.ref;
    delete change.refId;
  }
  webhook(
    'rejected-push-change-without-ref.json',
    'repo:refs_changed',
    'rejected',
    'repo:refs_changed whose change has neither ref nor refId',
    noRef,
  );

  // ---- REST answers ----
  const api = async (file: string, method: string, path: string, model: string, body?: unknown) => {
    const answer = await rest(sim, method, path, body);
    if (answer.body === undefined)
      throw new Error(`${method} ${path} answered ${answer.status} without a body`);
    if (files.has(`api/${file}`)) throw new Error(`two fixtures named ${file}`);
    files.set(`api/${file}`, formatJson(answer.body));
    manifest.api.push({ file, request: `${method} ${path}`, model });
    return answer.body as Json;
  };
  const requestBody = (file: string, method: string, path: string, model: string, body: unknown) => {
    files.set(`api/${file}`, formatJson(body));
    manifest.api.push({ file, request: `${method} ${path} (request body)`, model });
  };
  const R = '/rest/api/latest/projects/PRJ/repos/infra';
  const mainHead = infra.refs.get('refs/heads/main')!;
  const mergeCommit = infra.refs.get('refs/heads/release/1.0')!;

  await api(
    'application-properties.json',
    'GET',
    '/rest/api/1.0/application-properties',
    'parseApplicationProperties',
  );
  await api('capabilities.json', 'GET', '/rest/capabilities', 'parseCapabilities');
  await api(
    'build-capabilities.json',
    'GET',
    '/rest/api/latest/build/capabilities',
    'parseBuildCapabilities',
  );
  await api(
    'webhook-capabilities.json',
    'GET',
    '/rest/webhooks/latest/capabilities',
    'parseWebhookCapabilities',
  );
  await api('projects-page.json', 'GET', '/rest/api/1.0/projects?limit=3', 'Page<parseProject>');
  await api('project.json', 'GET', '/rest/api/1.0/projects/PRJ', 'parseProject');
  await api('project-personal.json', 'GET', '/rest/api/1.0/projects/~alice', 'parseProject');
  await api(
    'repositories-page-filter.json',
    'GET',
    '/rest/api/1.0/repos?name=infra&limit=3',
    'Page<parseRepository>',
  );
  await api(
    'project-repositories-page.json',
    'GET',
    '/rest/api/1.0/projects/PRJ/repos',
    'Page<parseRepository>',
  );
  await api('repository.json', 'GET', '/rest/api/1.0/projects/PRJ/repos/infra', 'parseRepository');
  await api('repository-fork.json', 'GET', '/rest/api/1.0/projects/OPS/repos/infra', 'parseRepository');
  await api('branches-page.json', 'GET', `${R}/branches`, 'Page<parseRef>');
  await api('tags-page.json', 'GET', `${R}/tags`, 'Page<parseRef>');
  await api('tag-annotated.json', 'GET', `${R}/tags/v1.1.0`, 'parseRef');
  await api('commit.json', 'GET', `${R}/commits/${mergeCommit}`, 'parseCommit');
  await api('commit-changes.json', 'GET', `${R}/commits/${mainHead}/changes`, 'parseChangesPage');
  await api(
    'compare-changes.json',
    'GET',
    `${R}/compare/changes?from=${mergeCommit}&to=${(mergePush.changes as Json[])[0]!.fromHash as string}`,
    'parseChangesPage',
  );
  await api(
    'commit-pull-requests.json',
    'GET',
    `${R}/commits/${infra.refs.get('refs/heads/feature/i18n')!}/pull-requests`,
    'Page<parsePullRequest>',
  );
  await api('pull-request.json', 'GET', `${R}/pull-requests/${pr6.id}`, 'parsePullRequest');
  await api('pull-request-merged.json', 'GET', `${R}/pull-requests/${pr1.id}`, 'parsePullRequest');
  await api(
    'pull-requests-page.json',
    'GET',
    `${R}/pull-requests?state=ALL&limit=3`,
    'Page<parsePullRequest>',
  );
  await api('pull-request-changes.json', 'GET', `${R}/pull-requests/${pr6.id}/changes`, 'parseChangesPage');
  await api(
    'pull-request-comment.json',
    'GET',
    `${R}/pull-requests/${pr1.id}/comments/${topComment.commentId}`,
    'parseComment',
  );
  await api(
    'pull-request-activities-page.json',
    'GET',
    `${R}/pull-requests/${pr1.id}/activities`,
    'Page<parseActivity>',
  );
  const newComment = {
    text: 'Plan: 2 to add, 0 to change, 0 to destroy.',
    parent: { id: i18nComment.commentId },
  };
  await api(
    'pull-request-comment-created.json',
    'POST',
    `${R}/pull-requests/${pr6.id}/comments`,
    'parseComment',
    newComment,
  );

  const status = {
    state: 'SUCCESSFUL',
    key: 'stacklink-plan-network',
    name: 'Stacklink plan: stacks/network',
    url: 'https://stacklink.example.test/runs/0001',
    description: 'Plan: 2 to add, 0 to change, 0 to destroy',
  };
  requestBody(
    'build-status-request.json',
    'POST',
    `${R}/commits/${mainHead}/builds`,
    'parseBuildStatus',
    status,
  );
  const posted = await rest(sim, 'POST', `${R}/commits/${mainHead}/builds`, status);
  if (posted.status !== 204) throw new Error(`posting a build status answered ${posted.status}`);
  await api(
    'build-statuses-page.json',
    'GET',
    `/rest/build-status/1.0/commits/${mainHead}`,
    'Page<parseBuildStatus>',
  );

  const hook = {
    name: 'Stacklink',
    url: 'https://stacklink.example.test/webhooks/bitbucket-dc/00000000-0000-4000-8000-000000000001',
    events: ['repo:refs_changed', 'pr:opened', 'pr:from_ref_updated', 'pr:merged', 'pr:comment:added'],
    active: true,
    configuration: { secret: 'fixture-webhook-secret' },
  };
  requestBody('webhook-create-request.json', 'POST', `${R}/webhooks`, 'parseWebhookRequest', hook);
  const createdHook = await api('webhook-created.json', 'POST', `${R}/webhooks`, 'parseWebhook', hook);
  await api('webhooks-page.json', 'GET', `${R}/webhooks`, 'Page<parseWebhook>');
  await api('webhook.json', 'GET', `${R}/webhooks/${createdHook.id as number}`, 'parseWebhook');

  await api(
    'error-repository-not-found.json',
    'GET',
    '/rest/api/1.0/projects/PRJ/repos/missing',
    'parseErrorBody',
  );

  // ---- signature vectors (openssl, not our sign()) ----
  const vectors: [string, string][] = [
    ['push-branch-update.json', 'x'],
    ['push-branch-created.json', 'short'],
    ['push-tag-created-annotated.json', 'correct horse battery staple'],
    [
      'push-dc10-with-commits.json',
      createHash('sha256').update('stacklink fixture secret one').digest('hex'),
    ],
    ['pr-opened.json', 'stacklink-fixture-secret'],
    ['pr-opened-fork-personal.json', 'Sécret-Zoë-ß-秘密-🔑'],
    ['pr-opened-non-ascii.json', 'ascii-secret-for-a-non-ascii-body'],
    ['pr-from-ref-updated.json', 'a'.repeat(64)],
    ['pr-modified-retargeted.json', `${'k'.repeat(64)}+1`],
    ['pr-reviewer-approved.json', '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'],
    ['pr-merged.json', createHash('sha1').update('stacklink fixture secret two').digest('hex')],
    ['pr-comment-added-reply.json', ' leading and trailing spaces '],
    ['pr-comment-added-non-ascii.json', 'Ελληνικά'],
    ['pr-declined.json', '0123456789'],
    ['ignored-repo-forked.json', 'ignored-but-signed'],
  ];
  for (const [file, secret] of vectors) {
    const bytes = files.get(`webhooks/${file}`);
    if (bytes === undefined) throw new Error(`no webhook fixture ${file} to sign`);
    manifest.signatures.push({ file, secret, header: `sha256=${opensslHmacSha256(secret, bytes)}` });
  }

  files.set('manifest.json', formatJson(manifest));
  return { manifest, files: new Map([...files.entries()].sort(([a], [b]) => a.localeCompare(b))) };
}

/** HMAC-SHA256 with the openssl CLI over `content`'s UTF-8 bytes: independent of our sign(). */
export function opensslHmacSha256(secret: string, content: string): string {
  const out = execFileSync('openssl', ['dgst', '-sha256', '-hmac', secret], {
    input: Buffer.from(content, 'utf8'),
    encoding: 'utf8',
  });
  const hex = /([0-9a-f]{64})\s*$/.exec(out)?.[1];
  if (hex === undefined) throw new Error(`unexpected openssl output: ${out}`);
  return hex;
}

interface Capture {
  url: string;
  /** X-Request-Id → the raw body received. */
  bodies: Map<string, Buffer>;
  close(): Promise<void>;
}

/** A loopback receiver keeping every delivered body byte for byte. */
async function startCapture(): Promise<Capture> {
  const bodies = new Map<string, Buffer>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.set(String(req.headers['x-request-id']), Buffer.concat(chunks));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/bitbucket-dc/fixtures`,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** One plain HTTP request to the simulator as the admin user (Basic auth), JSON in and out. */
function rest(
  sim: BitbucketSimulator,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {
      Authorization: `Basic ${Buffer.from(`${ADMIN.name}:${ADMIN.token}`).toString('base64')}`,
      Accept: 'application/json',
    };
    if (method !== 'GET') headers['X-Atlassian-Token'] = 'no-check';
    if (payload !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    const req = http.request(new URL(`${sim.url}${path}`), { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          body: text === '' ? undefined : (JSON.parse(text) as unknown),
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** libs/fixtures/bitbucket-dc of the repository holding `from` (the folder with tsconfig.base.json). */
export function fixturesDir(from: string = __dirname): string {
  let dir = path.resolve(from);
  while (!fs.existsSync(path.join(dir, 'tsconfig.base.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no tsconfig.base.json above ${from}: not inside the repository`);
    dir = parent;
  }
  return path.join(dir, 'libs', 'fixtures', 'bitbucket-dc');
}

/** Every file under `dir`, by path relative to it with `/` separators; empty when `dir` is missing. */
export function readFixtureFiles(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  if (!fs.existsSync(dir)) return files;
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    files.set(path.relative(dir, full).split(path.sep).join('/'), fs.readFileSync(full, 'utf8'));
  }
  return files;
}

export interface FixtureDiff {
  differ: string[];
  missing: string[];
  extra: string[];
}

/** What on disk is not what the builder makes: files that differ, are missing, or should not be there. */
export function diffFixtures(expected: Map<string, string>, actual: Map<string, string>): FixtureDiff {
  const diff: FixtureDiff = { differ: [], missing: [], extra: [] };
  for (const [file, content] of expected) {
    const found = actual.get(file);
    if (found === undefined) diff.missing.push(file);
    else if (found !== content) diff.differ.push(file);
  }
  for (const file of actual.keys()) if (!expected.has(file)) diff.extra.push(file);
  for (const list of Object.values(diff) as string[][]) list.sort();
  return diff;
}
