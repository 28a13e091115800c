import type { CanonicalEvent, PullRequestDetails, PushEvent } from './canonical-event';
import {
  shortCommit,
  type ConfirmedFacts,
  type PullRequestConfirmation,
  type RefConfirmation,
  type SupersededPush,
} from './confirmed-facts';
import { pushChangesToLookUp } from './decide-triggers';
import type { NewRun, Stack } from './model';
import { parseCommentCommand } from './parse-comment-command';
import type { ConfirmationPort, CurrentPullRequest, RunRepositoryPort } from './ports';
import { sameRepository } from './refs';

/** How many of a stack's newest runs are searched for its latest tracked run. */
const RECENT_RUNS = 20;

/**
 * Bitbucket confirms before we act (docs/architecture.md §12): a webhook body is a claim, signed but
 * perhaps forged with a leaked secret or replayed, so the facts a run depends on are asked of
 * Bitbucket's REST API. A push: which branches contain each pushed commit (one call per distinct commit,
 * usually one), a tag's commit first (the answer the changed-files lookup then reuses). A pull request
 * event: the pull request now (one call). Events that start and cancel nothing ask nothing.
 */
export function createConfirmWithBitbucket(deps: {
  confirmation: ConfirmationPort;
  runs: RunRepositoryPort;
}) {
  async function confirmPush(event: PushEvent, stacks: readonly Stack[]): Promise<ConfirmedFacts> {
    const where = `${event.repository.projectKey}/${event.repository.slug}`;
    const refs = new Map<string, RefConfirmation>();
    const commitOf = new Map<string, string>();
    for (const change of pushChangesToLookUp(event, stacks)) {
      const after = change.after!;
      if (change.refType !== 'tag') {
        commitOf.set(change.ref, after);
        continue;
      }
      const tag = await deps.confirmation.tag(event, change.ref);
      if (tag === undefined) {
        refs.set(change.ref, { status: 'refused', detail: `Bitbucket has no tag ${change.ref} in ${where}` });
      } else if (tag.commit !== after && tag.object !== after) {
        refs.set(change.ref, {
          status: 'refused',
          detail: `Bitbucket shows ${change.ref} at ${shortCommit(tag.object ?? tag.commit)}, not ${shortCommit(after)}`,
        });
      } else {
        commitOf.set(change.ref, tag.commit);
      }
    }
    const branchesOf = new Map<string, { ref: string; head: string }[] | undefined>();
    for (const commit of new Set(commitOf.values()))
      branchesOf.set(commit, await deps.confirmation.branchesContaining(event, commit));
    for (const [ref, commit] of commitOf) {
      const containing = branchesOf.get(commit);
      const branches = containing?.map((b) => b.ref);
      if (branches === undefined) {
        refs.set(ref, {
          status: 'refused',
          detail: `Bitbucket does not know commit ${shortCommit(commit)} in ${where}`,
        });
      } else if (!ref.startsWith('refs/tags/') && !branches.includes(ref)) {
        refs.set(ref, {
          status: 'refused',
          detail: `Bitbucket does not show commit ${shortCommit(commit)} on ${ref} (branches containing it: ${
            branches.length === 0 ? 'none' : branches.join(', ')
          })`,
        });
      } else {
        const head = containing?.find((b) => b.ref === ref)?.head;
        refs.set(ref, { status: 'confirmed', commit, branches, ...(head === undefined ? {} : { head }) });
      }
    }
    return { refs };
  }

  async function confirmPullRequest(
    event: Exclude<CanonicalEvent, PushEvent>,
  ): Promise<PullRequestConfirmation | undefined> {
    const claimed = event.pullRequest;
    const where = `${event.repository.projectKey}/${event.repository.slug}`;
    const asks = asksAboutPullRequest(event);
    if (asks === 'nothing') return undefined;
    const now = await deps.confirmation.pullRequest(event, claimed.id);
    if (now === undefined) {
      return event.type === 'pull_request.deleted'
        ? { status: 'confirmed', pullRequest: claimed }
        : { status: 'refused', detail: `Bitbucket has no pull request #${claimed.id} in ${where}` };
    }
    const refuse = (detail: string): PullRequestConfirmation => ({
      status: 'refused',
      detail: `Bitbucket shows pull request #${claimed.id} ${detail}`,
    });
    if (event.type === 'pull_request.deleted') return refuse('as still there');
    const confirmed: PullRequestConfirmation = { status: 'confirmed', pullRequest: withFacts(claimed, now) };
    // A comment names the pull request, not a commit: it acts on the pull request as it is now.
    if (asks === 'current') return confirmed;
    if (now.state !== claimed.state) return refuse(`as ${now.state}, not ${claimed.state}`);
    if (event.type === 'pull_request.declined') return confirmed;
    if (!sameRepository(now.source.repository, claimed.source.repository)) {
      return refuse(
        `from ${repo(now.source.repository)}, not ${repo(claimed.source.repository)} as the delivery claims`,
      );
    }
    if (now.source.ref !== claimed.source.ref || now.source.commit !== claimed.source.commit) {
      return refuse(
        `with source ${now.source.ref} at ${shortCommit(now.source.commit)}, not ${claimed.source.ref} at ${shortCommit(claimed.source.commit)}`,
      );
    }
    if (now.target.ref !== claimed.target.ref)
      return refuse(`targeting ${now.target.ref}, not ${claimed.target.ref}`);
    return confirmed;
  }

  return {
    /** The facts the trigger rules need for this event, from Bitbucket. */
    async confirm(event: CanonicalEvent, stacks: readonly Stack[]): Promise<ConfirmedFacts> {
      if (event.type === 'push') return confirmPush(event, stacks);
      const pullRequest = await confirmPullRequest(event);
      return pullRequest === undefined ? {} : { pullRequest };
    },

    /**
     * The tracked runs a push planned whose commit is older than one that already has a tracked run of
     * the same stack (a replayed or late delivery): one call per distinct (pushed commit, stack's latest
     * tracked commit) asks whether the first is an ancestor of the second; stacks on one branch mostly
     * share their latest tracked commit, so a push usually costs one call, and none when the pushed
     * commit is still the branch's head.
     */
    async findSuperseded(
      event: CanonicalEvent,
      planned: readonly NewRun[],
      confirmed: ConfirmedFacts,
    ): Promise<SupersededPush[]> {
      if (event.type !== 'push') return [];
      const out: SupersededPush[] = [];
      const older = new Map<string, boolean | undefined>();
      for (const run of planned) {
        if (run.type !== 'tracked' || run.ref.startsWith('refs/tags/')) continue;
        // The branch's head is older than nothing on the branch: the usual prompt delivery asks nothing.
        const ref = confirmed.refs?.get(run.ref);
        if (ref?.status === 'confirmed' && ref.head === run.commit) continue;
        const recent = await deps.runs.listByStack(run.stackId, { limit: RECENT_RUNS });
        const latest = recent.find((r) => r.type === 'tracked' && !r.ref.startsWith('refs/tags/'));
        if (latest === undefined || latest.commit === run.commit) continue;
        const key = `${run.commit}\u0000${latest.commit}`;
        if (!older.has(key))
          older.set(key, await deps.confirmation.isAncestor(event, run.commit, latest.commit));
        if (older.get(key) === true) {
          out.push({
            stackId: run.stackId,
            ref: run.ref,
            detail: `commit ${shortCommit(run.commit)} is older than ${shortCommit(latest.commit)} on ${run.ref}, which already has a tracked run`,
          });
        }
      }
      return out;
    },
  };
}

/** Which pull request events need Bitbucket's word, and on what. */
function asksAboutPullRequest(event: Exclude<CanonicalEvent, PushEvent>): 'claim' | 'current' | 'nothing' {
  switch (event.type) {
    case 'pull_request.opened':
    case 'pull_request.source_updated':
    case 'pull_request.declined':
    case 'pull_request.deleted':
      return 'claim';
    case 'pull_request.modified':
      // Only a retarget starts or cancels something.
      return event.pullRequest.previousTarget !== undefined &&
        event.pullRequest.previousTarget.ref !== event.pullRequest.target.ref
        ? 'claim'
        : 'nothing';
    case 'pull_request.comment_added': {
      const kind = parseCommentCommand(event.comment.text).kind;
      return kind === 'propose' || kind === 'retry' ? 'current' : 'nothing';
    }
    default:
      return 'nothing';
  }
}

function withFacts(claimed: PullRequestDetails, now: CurrentPullRequest): PullRequestDetails {
  return {
    ...claimed,
    state: now.state,
    source: { ...now.source, repository: { ...now.source.repository } },
    target: { ...now.target, repository: { ...now.target.repository } },
  };
}

function repo(r: { projectKey: string; slug: string }): string {
  return `${r.projectKey}/${r.slug}`;
}
