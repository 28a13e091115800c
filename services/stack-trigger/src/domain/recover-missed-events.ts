import { randomUUID } from 'node:crypto';
import type { PullRequest, Ref } from '@stacklink/bitbucket';
import type { Logger } from '@stacklink/logger';
import type { CanonicalEvent, EventUser } from './canonical-event';
import type { HandleVcsEventOptions, HandleVcsEventResult } from './handle-vcs-event';
import type { RepositoryCoordinates, Stack } from './model';
import type { SeenHeadsPort, StackRepositoryPort } from './ports';
import type { BitbucketCall } from './reconcile-webhooks';
import type { ReconcilerLeasePort, ReconcilerMetricsPort } from './reconciler-ports';
import type { RecordDecisionContext } from './record-decision';

/** Marks a repository whose heads were recorded once: after it, an unknown pull request is a missed one. */
export const BASELINE_KEY = 'baseline';

export interface RecoverMissedEventsDeps {
  stacks: StackRepositoryPort;
  seenHeads: SeenHeadsPort;
  lease: ReconcilerLeasePort;
  call: BitbucketCall;
  /** The trigger path itself: same rules, same dedup, same decision record (docs/architecture.md §14). */
  handleVcsEvent: (event: CanonicalEvent, options?: HandleVcsEventOptions) => Promise<HandleVcsEventResult>;
  recordDecision: (
    event: CanonicalEvent,
    result: HandleVcsEventResult,
    context: RecordDecisionContext,
  ) => Promise<unknown>;
  metrics: ReconcilerMetricsPort;
  logger: Logger;
  now?: () => Date;
}

export interface RepositoryRecovery {
  integrationId: string;
  repository: RepositoryCoordinates;
  /** Bitbucket calls of the listings (branch heads, open pull requests), paging included. */
  listingCalls: number;
  recovered: CanonicalEvent[];
  /** Heads recorded as seen without an event: a first look at the repository or at a branch. */
  baselined: number;
}

const RECOVERY_ACTOR: EventUser = {
  id: 0,
  slug: 'stacklink',
  name: 'stacklink',
  displayName: 'Stacklink recovery',
};

/**
 * Missed-event recovery (docs/architecture.md §14), manual and managed integrations alike: per
 * repository of the enabled stacks, one paged listing of the branches they track and one of the open
 * pull requests, compared with the last commit events brought (seen heads). Each head no event brought
 * goes through the trigger path as an event marked `recovered`; a late webhook for the same commit then
 * finds the run (one run per stack, commit and type). A first look records what it finds as seen,
 * so a new stack does not replay history.
 */
export function createRecoverMissedEvents(deps: RecoverMissedEventsDeps) {
  const now = () => (deps.now ?? (() => new Date()))();
  /**
   * Heads found unseen at the last cycle, per repository: a head is fed only when the next cycle still
   * finds it unseen, so a webhook that is merely in flight (queued, or being handled) is not beaten by
   * recovery. A missed event is recovered within two recovery intervals.
   */
  const noticed = new Map<string, Map<string, string>>();

  async function recoverRepository(integrationId: string, stacks: Stack[]): Promise<RepositoryRecovery> {
    const repository = { projectKey: stacks[0]!.repository.projectKey, slug: stacks[0]!.repository.slug };
    const log = deps.logger.child({
      integrationId,
      repository: `${repository.projectKey}/${repository.slug}`,
    });
    const branches = [...new Set(stacks.map((s) => s.branch))];
    let listingCalls = 0;
    // One listing: filtered by name when every stack tracks the same branch (fewer pages), else all.
    const listed = await deps.call(integrationId, async (client) => {
      const heads = await client.listBranches(
        repository.projectKey,
        repository.slug,
        branches.length === 1 ? branches[0] : undefined,
      );
      listingCalls += Math.max(1, heads.pages);
      return heads;
    });
    const openPrs = await deps.call(integrationId, async (client) => {
      const prs = await client.listOpenPullRequests(repository.projectKey, repository.slug);
      listingCalls += Math.max(1, prs.pages);
      return prs;
    });
    const seen = await deps.seenHeads.list(integrationId, repository);
    const baselined = seen.has(BASELINE_KEY);
    const toRecord: { key: string; commit: string }[] = [];
    const candidates: CanonicalEvent[] = [];
    const tracked = new Set(branches.map((b) => (b.startsWith('refs/') ? b : `refs/heads/${b}`)));
    for (const head of listed.values.filter((r: Ref) => tracked.has(r.id))) {
      const commit = head.latestCommit;
      if (commit === undefined) continue;
      const before = seen.get(head.id);
      if (before === undefined) toRecord.push({ key: head.id, commit });
      else if (before !== commit)
        candidates.push(pushEvent(integrationId, repository, openPrs.values, head.id, before, commit));
    }
    for (const pr of openPrs.values) {
      const key = `pr:${pr.id}`;
      const before = seen.get(key);
      if (before === pr.fromRef.latestCommit) continue;
      if (before === undefined && !baselined) toRecord.push({ key, commit: pr.fromRef.latestCommit });
      else candidates.push(pullRequestEvent(integrationId, pr, before));
    }
    if (!baselined) toRecord.push({ key: BASELINE_KEY, commit: '-' });
    const repoKey = `${integrationId}/${repository.projectKey.toUpperCase()}/${repository.slug.toLowerCase()}`;
    const earlier = noticed.get(repoKey) ?? new Map<string, string>();
    const events = candidates.filter((e) => {
      const [key, commit] = headOf(e);
      return earlier.get(key) === commit;
    });
    noticed.set(repoKey, new Map(candidates.map(headOf)));
    if (toRecord.length > 0) {
      await deps.lease.assertHeld();
      await deps.seenHeads.record(integrationId, repository, toRecord);
    }
    for (const event of events) {
      // Fencing: a replica that lost the lease creates no run (docs/architecture.md §14).
      await deps.lease.assertHeld();
      const result = await deps.handleVcsEvent(event, { recovered: true });
      await deps.recordDecision(event, result, { bitbucketCalls: [] });
      log.info('missed event recovered', {
        eventId: event.id,
        type: event.type,
        created: result.created.map((r) => r.id),
        existing: result.existing.map((r) => r.id),
      });
    }
    return {
      integrationId,
      repository,
      listingCalls,
      recovered: events,
      baselined: toRecord.filter((h) => h.key !== BASELINE_KEY).length,
    };
  }

  function envelope(
    integrationId: string,
    repository: { projectKey: string; slug: string; id: number; name: string },
  ) {
    const at = now().toISOString();
    const id = randomUUID();
    return {
      specVersion: 1 as const,
      id,
      provider: 'bitbucket-dc' as const,
      integrationId,
      // No delivery brought it: the delivery id says where it came from.
      deliveryId: `recovered-${id}`,
      receivedAt: at,
      occurredAt: at,
      actor: RECOVERY_ACTOR,
      repository,
    };
  }

  function pushEvent(
    integrationId: string,
    repository: RepositoryCoordinates,
    prs: readonly PullRequest[],
    ref: string,
    before: string,
    after: string,
  ): CanonicalEvent {
    const known = prs.find((p) => p.toRef.repository.slug.toLowerCase() === repository.slug.toLowerCase())
      ?.toRef.repository;
    return {
      ...envelope(integrationId, {
        projectKey: repository.projectKey,
        slug: repository.slug,
        id: known?.id ?? 0,
        name: known?.name ?? repository.slug,
      }),
      type: 'push',
      push: { changes: [{ ref, refType: 'branch', action: 'updated', before, after }] },
    };
  }

  function pullRequestEvent(
    integrationId: string,
    pr: PullRequest,
    before: string | undefined,
  ): CanonicalEvent {
    const side = (r: PullRequest['fromRef']) => ({
      ref: r.id,
      commit: r.latestCommit,
      repository: { projectKey: r.repository.project.key, slug: r.repository.slug },
    });
    const author = pr.author.user;
    const target = pr.toRef.repository;
    const details = {
      id: pr.id,
      version: pr.version,
      title: pr.title,
      state: 'open' as const,
      draft: pr.draft ?? false,
      author: {
        id: author.id ?? 0,
        slug: author.slug ?? author.name,
        name: author.name,
        displayName: author.displayName ?? author.name,
      },
      source: side(pr.fromRef),
      target: side(pr.toRef),
      ...(before === undefined ? {} : { previousSourceCommit: before }),
    };
    const base = envelope(integrationId, {
      projectKey: target.project.key,
      slug: target.slug,
      id: target.id,
      name: target.name,
    });
    return before === undefined
      ? { ...base, type: 'pull_request.opened', pullRequest: details }
      : { ...base, type: 'pull_request.source_updated', pullRequest: details };
  }

  /** One recovery cycle over every repository of the enabled stacks. */
  return async function recoverMissedEvents(): Promise<RepositoryRecovery[]> {
    const byRepository = new Map<string, Stack[]>();
    for (const stack of (await deps.stacks.list()).filter((s) => s.enabled)) {
      const key = `${stack.integrationId}/${stack.repository.projectKey.toUpperCase()}/${stack.repository.slug.toLowerCase()}`;
      byRepository.set(key, [...(byRepository.get(key) ?? []), stack]);
    }
    const results: RepositoryRecovery[] = [];
    for (const stacks of byRepository.values()) {
      const integrationId = stacks[0]!.integrationId;
      try {
        results.push(await recoverRepository(integrationId, stacks));
      } catch (err) {
        if ((err as { code?: string }).code === 'RECONCILER.LEASE_LOST') throw err;
        deps.logger.warn('missed-event recovery failed for a repository; trying again next cycle', {
          integrationId,
          repository: stacks[0]!.repository,
          err,
        });
      }
    }
    const calls = results.reduce((n, r) => n + r.listingCalls, 0);
    const recovered = results.reduce((n, r) => n + r.recovered.length, 0);
    deps.metrics.recoveryCycle(results.length, calls, recovered);
    return results;
  };
}

/** The head an event moves: the ref and its new commit, or the pull request and its source commit. */
function headOf(event: CanonicalEvent): [string, string] {
  if (event.type === 'push') {
    const change = event.push.changes[0]!;
    return [change.ref, change.after ?? ''];
  }
  const pr = (event as { pullRequest: { id: number; source: { commit: string } } }).pullRequest;
  return [`pr:${pr.id}`, pr.source.commit];
}
