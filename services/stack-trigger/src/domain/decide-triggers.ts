import type { CanonicalEvent, PullRequestDetails, PushChange, PushEvent } from './canonical-event';
import { shortCommit, type ConfirmedFacts } from './confirmed-facts';
import type { NewRun, RunType, Stack, TriggerKind } from './model';
import { COMMAND_HELP, parseCommentCommand, type CommentCommand } from './parse-comment-command';
import { branchRef, isStackBranch, sameRepository } from './refs';
import { createStackFileMatcher, type ChangedFiles, type RefChanges } from './stack-matches-files';
import { untouchedDetail } from './untouched-detail';

export const DEFAULT_MAX_RUNS_PER_EVENT = 100;

export interface TriggerInput {
  event: CanonicalEvent;
  /** The stacks of the event's repository (same integration, project and slug). */
  stacks: readonly Stack[];
  /**
   * Pull request events and comment commands: the pull request's changes, required when
   * `needsChangedFiles` says so; missing means unknown, which counts as touched.
   */
  changedFiles?: ChangedFiles;
  /**
   * Push events: what each ref of `pushChangesToLookUp` changed on its own, and its commit. Each ref is
   * matched against its own files only (a stack on `main` is not started by files that changed on
   * another ref of the same push). A ref without an entry is unknown: touched, run on `after`.
   */
  refChanges?: readonly RefChanges[];
  maxRunsPerEvent?: number;
  /**
   * Comment commands: the comment's author as Bitbucket reports it and whether they may write to the
   * repository, or that the comment is gone. Missing means not checked, and a command is then refused.
   */
  commenter?: Commenter;
  /**
   * What Bitbucket showed for the event's claims (docs/architecture.md §12). The trigger worker always
   * gives it; without it the rules take the body at its word (rules tests).
   */
  confirmed?: ConfirmedFacts;
  /** An event no webhook brought, found by missed-event recovery: its runs say `recovered` (§14). */
  recovered?: boolean;
}

/** Who gave a comment command (docs/architecture.md §12). */
export type Commenter = { kind: 'writer' | 'refused'; name: string } | { kind: 'vanished' };

export const WRITE_PERMISSION_NEEDED =
  'write permission on this repository (REPO_WRITE or more) is needed to give Stacklink commands';

/** Cancel the still-queued proposed runs of one pull request, on these stacks, except this commit. */
export interface CancelPlan {
  pullRequestId: number;
  stackIds: string[];
  exceptCommit?: string;
  reason: string;
}

/** `/stacklink retry`: requeue the failed or canceled proposed run, or create it when there is none. */
export interface RetryPlan {
  run: NewRun;
}

/**
 * Why a stack of the event's repository got no run (docs/architecture.md §13). The code is for filters,
 * metrics and the API; `detail` says it in words a developer understands.
 */
export type SkipReason =
  | 'ref-deleted'
  | 'tags-off'
  | 'tag-off-branch'
  | 'files-untouched'
  | 'branch-mismatch'
  | 'pull-request-closed'
  | 'fork-not-allowed'
  | 'disabled'
  | 'superseded'
  | 'refused'
  | 'vanished'
  | 'over-cap';

export interface SkippedStack {
  stackId: string;
  reason: SkipReason;
  detail: string;
}

export interface TriggerDecision {
  /** Runs to create, at most `maxRunsPerEvent`, unique per (stack, commit, type). */
  runs: NewRun[];
  /** Runs the cap left out: reported, never silently dropped. */
  overCap: NewRun[];
  cancel: CancelPlan[];
  retry: RetryPlan[];
  /** A reply to post on the pull request (comment commands). */
  reply?: string;
  skipped: SkippedStack[];
  /** Set when the event starts nothing by design (reviews, merges, deleted refs…). */
  ignored?: string;
}

const EMPTY_TRIGGERS = (): TriggerDecision => ({ runs: [], overCap: [], cancel: [], retry: [], skipped: [] });

/**
 * True when the decision depends on which files changed, so the caller asks Bitbucket once and only
 * for events that may start a run (docs/architecture.md §7).
 */
export function needsChangedFiles(event: CanonicalEvent, stacks: readonly Stack[]): boolean {
  if (stacks.length === 0) return false;
  switch (event.type) {
    case 'push':
      return pushChangesToLookUp(event, stacks).length > 0;
    case 'pull_request.opened':
    case 'pull_request.source_updated':
    case 'pull_request.modified':
      return pullRequestCandidates(event.type, event.pullRequest, event.repository, stacks).stacks.length > 0;
    case 'pull_request.comment_added': {
      const command = parseCommentCommand(event.comment.text);
      return command.kind === 'propose' && command.stack === undefined && event.pullRequest.state === 'open';
    }
    default:
      return false;
  }
}

/** The refs of a push whose changed files decide something: not deleted, and some stack may run on them. */
export function pushChangesToLookUp(event: PushEvent, stacks: readonly Stack[]): PushChange[] {
  return event.push.changes.filter((c) => pushCandidates(c, stacks).length > 0);
}

/** The pure trigger rules of docs/architecture.md §7: what one event does to the stacks of its repository. */
export function decideTriggers(input: TriggerInput): TriggerDecision {
  const stacks = [...input.stacks].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const decision = EMPTY_TRIGGERS();
  const confirmedPullRequest = input.confirmed?.pullRequest;
  if (input.event.type !== 'push' && confirmedPullRequest?.status === 'refused') {
    // Bitbucket contradicts the delivery: it starts nothing, cancels nothing, answers nothing.
    for (const s of stacks)
      decision.skipped.push({ stackId: s.id, reason: 'refused', detail: confirmedPullRequest.detail });
    decision.ignored = `refused: ${confirmedPullRequest.detail}`;
    return decision;
  }
  // The rules read the pull request as Bitbucket reports it, not as the body claims it.
  const event: CanonicalEvent =
    input.event.type !== 'push' && confirmedPullRequest?.status === 'confirmed'
      ? { ...input.event, pullRequest: confirmedPullRequest.pullRequest }
      : input.event;
  const confirmedRefs = input.confirmed?.refs;
  const superseded = new Map(
    (input.confirmed?.superseded ?? []).map((p) => [`${p.stackId}\u0000${p.ref}`, p.detail]),
  );
  const touched = touchedBy(input.changedFiles);
  const refChanges = new Map((input.refChanges ?? []).map((r) => [r.ref, r]));
  const planned: NewRun[] = [];
  const trigger = (kind: TriggerKind) => ({
    kind: input.recovered === true ? ('recovered' as const) : kind,
    eventId: event.id,
    deliveryId: event.deliveryId,
  });

  switch (event.type) {
    case 'push': {
      if (event.push.changes.length === 0) decision.ignored = 'push without ref changes';
      for (const change of event.push.changes) {
        if (change.action === 'deleted' || change.after === null) {
          for (const s of stacks)
            decision.skipped.push({
              stackId: s.id,
              reason: 'ref-deleted',
              detail: `${change.ref} was deleted`,
            });
          continue;
        }
        const candidates = pushCandidates(change, stacks);
        const looked = refChanges.get(change.ref);
        if (looked?.vanished !== undefined) {
          for (const s of stacks)
            decision.skipped.push({ stackId: s.id, reason: 'vanished', detail: looked.vanished });
          continue;
        }
        const touchedByRef = touchedBy(looked?.files);
        const confirmation = confirmedRefs?.get(change.ref);
        const confirmed = confirmation?.status === 'confirmed' ? confirmation : undefined;
        for (const s of stacks) {
          const supersededBy = superseded.get(`${s.id}\u0000${change.ref}`);
          if (!candidates.includes(s)) {
            decision.skipped.push({
              stackId: s.id,
              reason: 'tags-off',
              detail: `tag ${change.ref}: the stack does not trigger on tags`,
            });
          } else if (confirmedRefs !== undefined && confirmed === undefined) {
            decision.skipped.push({
              stackId: s.id,
              reason: 'refused',
              detail:
                confirmation?.status === 'refused'
                  ? confirmation.detail
                  : `Bitbucket was not asked about ${change.ref}`,
            });
          } else if (
            change.refType === 'tag' &&
            confirmed !== undefined &&
            !confirmed.branches.includes(branchRef(s.branch))
          ) {
            decision.skipped.push({
              stackId: s.id,
              reason: 'tag-off-branch',
              detail: `tag ${change.ref} names commit ${shortCommit(confirmed.commit)}, which is not on ${branchRef(s.branch)}`,
            });
          } else if (supersededBy !== undefined) {
            decision.skipped.push({ stackId: s.id, reason: 'superseded', detail: supersededBy });
          } else if (!touchedByRef(s)) {
            decision.skipped.push({
              stackId: s.id,
              reason: 'files-untouched',
              detail: untouchedDetail(s, looked?.files, change.ref),
            });
          } else {
            planned.push({
              stackId: s.id,
              type: pushRunType(change, s),
              commit: confirmed?.commit ?? looked?.commit ?? change.after,
              ref: change.ref,
              trigger: trigger('push'),
            });
          }
        }
      }
      break;
    }
    case 'pull_request.opened':
    case 'pull_request.source_updated':
    case 'pull_request.modified': {
      const pr = event.pullRequest;
      const { stacks: candidates, skipped } = pullRequestCandidates(event.type, pr, event.repository, stacks);
      decision.skipped.push(...skipped);
      for (const s of candidates) {
        if (!touched(s))
          decision.skipped.push({
            stackId: s.id,
            reason: 'files-untouched',
            detail: untouchedDetail(s, input.changedFiles, `pull request #${pr.id}`),
          });
        else planned.push(proposedRunFor(s, pr, trigger('pull_request')));
      }
      if (event.type === 'pull_request.source_updated') {
        decision.cancel.push({
          pullRequestId: pr.id,
          stackIds: stacks.map((s) => s.id),
          exceptCommit: pr.source.commit,
          reason: `superseded by commit ${pr.source.commit}`,
        });
      }
      if (event.type === 'pull_request.modified' && retargeted(pr)) {
        const leftBehind = stacks.filter((s) => !isStackBranch(s.branch, pr.target.ref));
        if (leftBehind.length > 0) {
          decision.cancel.push({
            pullRequestId: pr.id,
            stackIds: leftBehind.map((s) => s.id),
            reason: `pull request retargeted to ${pr.target.ref}`,
          });
        }
      }
      if (event.type === 'pull_request.modified' && !retargeted(pr) && planned.length === 0) {
        decision.ignored = 'pull request modified without a new target';
      }
      break;
    }
    case 'pull_request.declined':
    case 'pull_request.deleted':
      decision.cancel.push({
        pullRequestId: event.pullRequest.id,
        stackIds: stacks.map((s) => s.id),
        reason: `pull request ${event.type === 'pull_request.declined' ? 'declined' : 'deleted'}`,
      });
      break;
    case 'pull_request.merged':
      // The merge commit arrives as a push to the target branch; that push starts the tracked run.
      decision.ignored = 'a merge starts nothing beyond its push';
      break;
    case 'pull_request.reviewer_approved':
    case 'pull_request.reviewer_unapproved':
    case 'pull_request.reviewer_needs_work':
      decision.ignored = `review recorded: ${event.review.status}`;
      break;
    case 'pull_request.comment_added':
      decideComment(parseCommentCommand(event.comment.text), event.pullRequest, event.repository, stacks, {
        commenter: input.commenter,
        touched,
        files: input.changedFiles,
        trigger: trigger('comment'),
        decision,
        planned,
      });
      break;
  }

  const unique = uniqueRuns(planned);
  const cap = Math.max(0, input.maxRunsPerEvent ?? DEFAULT_MAX_RUNS_PER_EVENT);
  decision.runs = unique.slice(0, cap);
  decision.overCap = unique.slice(cap);
  return decision;
}

function decideComment(
  command: CommentCommand,
  pr: PullRequestDetails,
  repository: { projectKey: string; slug: string },
  stacks: Stack[],
  ctx: {
    commenter: Commenter | undefined;
    touched: (s: Stack) => boolean;
    files: ChangedFiles | undefined;
    trigger: NewRun['trigger'];
    decision: TriggerDecision;
    planned: NewRun[];
  },
): void {
  const { decision } = ctx;
  if (command.kind === 'none') {
    decision.ignored = 'comment is not a command';
    return;
  }
  const { commenter } = ctx;
  if (commenter?.kind === 'vanished') {
    // Deleted before it was handled: nobody to answer, nothing to run, and no reason to park the event.
    decision.ignored = 'the command comment was deleted before it was handled';
    for (const s of stacks)
      decision.skipped.push({
        stackId: s.id,
        reason: 'vanished',
        detail: 'the command comment was deleted before Stacklink handled it',
      });
    return;
  }
  if (commenter === undefined || commenter.kind === 'refused') {
    const who = commenter === undefined ? 'the commenter' : `@${commenter.name}`;
    decision.reply = `Not run: ${who} does not have ${WRITE_PERMISSION_NEEDED}.`;
    for (const s of stacks)
      decision.skipped.push({
        stackId: s.id,
        reason: 'refused',
        detail: `${who} lacks write permission on the repository`,
      });
    return;
  }
  if (command.kind === 'help') {
    decision.reply = `${capitalize(command.problem)}.\n\n${COMMAND_HELP}`;
    return;
  }
  if (pr.state !== 'open') {
    decision.reply = `Pull request #${pr.id} is ${pr.state}: \`/stacklink ${command.kind}\` only works on open pull requests.`;
    return;
  }
  let targets: Stack[];
  if (command.stack !== undefined) {
    const wanted = command.stack;
    const named = stacks.find((s) => s.id === wanted || s.name.toLowerCase() === wanted.toLowerCase());
    if (named === undefined) {
      // Only the stacks this pull request could run anyway: naming every stack of the repository would
      // tell any commenter what else the repository deploys (docs/architecture.md §12).
      const tracking = stacks.filter((s) => isStackBranch(s.branch, pr.target.ref));
      const known = tracking.map((s) => `\`${s.name}\``).join(', ') || 'none';
      decision.reply = `No stack named \`${wanted}\` tracks ${shortRef(pr.target.ref)} (stacks for this pull request: ${known}).\n\n${COMMAND_HELP}`;
      return;
    }
    if (!isStackBranch(named.branch, pr.target.ref)) {
      // Naming a stack skips the file filter, never the branch rule (docs/architecture.md §12).
      decision.skipped.push({
        stackId: named.id,
        reason: 'branch-mismatch',
        detail: `pull request targets ${pr.target.ref}, not the stack's branch`,
      });
      decision.reply = `Stack \`${named.name}\` does not track ${shortRef(pr.target.ref)}, the target of this pull request: nothing to ${command.kind}.`;
      return;
    }
    targets = [named];
  } else {
    targets = stacks.filter((s) => isStackBranch(s.branch, pr.target.ref));
  }
  const fromFork = !sameRepository(pr.source.repository, repository);
  const allowed = targets.filter((s) => !fromFork || s.allowForks);
  for (const s of targets) {
    if (!allowed.includes(s))
      decision.skipped.push({
        stackId: s.id,
        reason: 'fork-not-allowed',
        detail: 'pull request from a fork',
      });
  }
  if (targets.length > 0 && allowed.length === 0) {
    decision.reply = 'This pull request comes from a fork and no matching stack allows runs from forks.';
    return;
  }
  if (command.kind === 'retry') {
    decision.retry = allowed.map((s) => ({ run: proposedRunFor(s, pr, ctx.trigger) }));
  } else {
    // A named stack is an explicit request; without a name only the stacks the change touches.
    const chosen = command.stack !== undefined ? allowed : allowed.filter((s) => ctx.touched(s));
    for (const s of allowed) {
      if (!chosen.includes(s))
        decision.skipped.push({
          stackId: s.id,
          reason: 'files-untouched',
          detail: untouchedDetail(s, ctx.files, `pull request #${pr.id}`),
        });
    }
    ctx.planned.push(...chosen.map((s) => proposedRunFor(s, pr, ctx.trigger)));
  }
  if (decision.retry.length === 0 && ctx.planned.length === 0) {
    decision.reply = `Nothing to ${command.kind}: no stack of this repository tracks ${shortRef(pr.target.ref)} and is touched by this pull request.`;
  }
}

function pushCandidates(change: PushChange, stacks: readonly Stack[]): Stack[] {
  if (change.action === 'deleted' || change.after === null) return [];
  return change.refType === 'tag' ? stacks.filter((s) => s.triggerOnTags) : [...stacks];
}

/**
 * A branch push on the stack's branch is what the stack tracks; any other branch is a proposal.
 * A tag only reaches here when the stack opted in, and opting in means "deploy this release": tracked.
 */
function pushRunType(change: PushChange, stack: Stack): RunType {
  if (change.refType === 'tag') return 'tracked';
  return isStackBranch(stack.branch, change.ref) ? 'tracked' : 'proposed';
}

function pullRequestCandidates(
  type: 'pull_request.opened' | 'pull_request.source_updated' | 'pull_request.modified',
  pr: PullRequestDetails,
  repository: { projectKey: string; slug: string },
  stacks: readonly Stack[],
): { stacks: Stack[]; skipped: SkippedStack[] } {
  const skipped: SkippedStack[] = [];
  const out: Stack[] = [];
  if (pr.state !== 'open') {
    return {
      stacks: [],
      skipped: stacks.map((s) => ({
        stackId: s.id,
        reason: 'pull-request-closed',
        detail: `pull request is ${pr.state}`,
      })),
    };
  }
  // A modification that keeps the target (title, description, reviewers) starts nothing.
  if (type === 'pull_request.modified' && !retargeted(pr)) return { stacks: [], skipped };
  const fromFork = !sameRepository(pr.source.repository, repository);
  for (const s of stacks) {
    if (!isStackBranch(s.branch, pr.target.ref)) {
      skipped.push({
        stackId: s.id,
        reason: 'branch-mismatch',
        detail: `pull request targets ${pr.target.ref}, not the stack's branch`,
      });
    } else if (fromFork && !s.allowForks) {
      skipped.push({ stackId: s.id, reason: 'fork-not-allowed', detail: 'pull request from a fork' });
    } else {
      out.push(s);
    }
  }
  return { stacks: out, skipped };
}

function retargeted(pr: PullRequestDetails): boolean {
  return pr.previousTarget !== undefined && pr.previousTarget.ref !== pr.target.ref;
}

function proposedRunFor(stack: Stack, pr: PullRequestDetails, trigger: NewRun['trigger']): NewRun {
  return {
    stackId: stack.id,
    type: 'proposed',
    commit: pr.source.commit,
    ref: pr.source.ref,
    pullRequest: {
      id: pr.id,
      sourceRef: pr.source.ref,
      targetRef: pr.target.ref,
      ...(pr.url === undefined ? {} : { url: pr.url }),
    },
    trigger,
  };
}

function touchedBy(files: ChangedFiles | undefined): (stack: Stack) => boolean {
  if (files === undefined || files.truncated) return () => true;
  return (stack) => files.paths.some(createStackFileMatcher(stack));
}

function uniqueRuns(runs: NewRun[]): NewRun[] {
  const seen = new Set<string>();
  return runs.filter((r) => {
    const key = `${r.stackId}\u0000${r.commit}\u0000${r.type}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function shortRef(ref: string): string {
  return ref.replace(/^refs\/(heads|tags)\//, '');
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
