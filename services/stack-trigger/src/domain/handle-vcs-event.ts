import type { Logger } from '@stacklink/logger';
import { createAnswerCommentCommand } from './answer-comment-command';
import type { CanonicalEvent } from './canonical-event';
import { createCancelRunsOfDisabledStacks } from './cancel-runs-of-disabled-stacks';
import { createCancelSupersededRuns } from './cancel-superseded-runs';
import { createCheckCommenter } from './check-commenter';
import { createConfirmWithBitbucket } from './confirm-with-bitbucket';
import type { ConfirmedFacts } from './confirmed-facts';
import { decideTriggers, type SkippedStack, type TriggerDecision } from './decide-triggers';
import type { EventHandling } from './event-handling';
import { createFindStacksOfRepository } from './find-stacks-of-repository';
import { createLookUpChangedFiles } from './look-up-changed-files';
import type { NewRun, Run } from './model';
import type {
  ChangedFilesPort,
  CommentAuthorityPort,
  CommentRepliesPort,
  ConfirmationPort,
  RunEventsPort,
  RunQueuePort,
  RunRepositoryPort,
  SeenHeadsPort,
  StackRepositoryPort,
  TriggerMetricsPort,
} from './ports';
import { createPublishBatch, dispatchRuns } from './queue-run';
import { createQueueTriggeredRuns } from './queue-triggered-runs';
import { createRetryRuns } from './retry-runs';

export interface HandleVcsEventDeps {
  stacks: StackRepositoryPort;
  runs: RunRepositoryPort;
  queue: RunQueuePort;
  changedFiles: ChangedFilesPort;
  confirmation: ConfirmationPort;
  runEvents: RunEventsPort;
  replies: CommentRepliesPort;
  /** Comment commands: who wrote the comment, and may they (docs/architecture.md §12). */
  commentAuthority: CommentAuthorityPort;
  metrics: TriggerMetricsPort;
  logger: Logger;
  maxRunsPerEvent: number;
  /** The heads events brought, for missed-event recovery (§14); not recorded without it. */
  seenHeads?: SeenHeadsPort;
}

export interface HandleVcsEventOptions {
  /** Missed-event recovery feeds the event: its runs are marked `recovered` (§14). */
  recovered?: boolean;
}

export interface HandleVcsEventResult {
  /** Runs this event created. */
  created: Run[];
  /** Runs the event asked for that already existed (a redelivery, or a push and a PR on one commit). */
  existing: Run[];
  canceled: Run[];
  /** Failed or canceled runs a `/stacklink retry` put back in the queue. */
  retried: Run[];
  /** Runs over the per-event cap: not created, logged and counted. */
  overCap: NewRun[];
  replied?: string;
  ignored?: string;
  skipped: SkippedStack[];
}

/**
 * The `trigger` worker's use case: applies the trigger rules (docs/architecture.md §7) to one canonical
 * event. Safe to run again for the same event: runs are unique per (stack, commit, type), cancel and retry
 * are compare-and-set.
 */
export function createHandleVcsEvent(
  deps: HandleVcsEventDeps,
): (event: CanonicalEvent, options?: HandleVcsEventOptions) => Promise<HandleVcsEventResult> {
  const findStacksOfRepository = createFindStacksOfRepository(deps);
  const lookUpChangedFiles = createLookUpChangedFiles(deps);
  const confirmWithBitbucket = createConfirmWithBitbucket(deps);
  const cancelSupersededRuns = createCancelSupersededRuns(deps);
  const queueTriggeredRuns = createQueueTriggeredRuns(deps);
  const retryRuns = createRetryRuns(deps);
  const cancelRunsOfDisabledStacks = createCancelRunsOfDisabledStacks(deps);
  const answerCommentCommand = createAnswerCommentCommand(deps);
  const checkCommenter = createCheckCommenter({ authority: deps.commentAuthority });

  return async (event, options = {}) => {
    const log = deps.logger.child({
      eventId: event.id,
      deliveryId: event.deliveryId,
      integrationId: event.integrationId,
    });
    const stacks = await findStacksOfRepository(event);
    if (stacks.length === 0 && event.type !== 'pull_request.comment_added')
      return { ...nothingDone(), ignored: 'no stack uses this repository' };
    // Seen before deciding: recovery must not feed again a head an event brought, whatever it decided.
    await recordSeenHeads(event);

    const commenter = await checkCommenter(event);
    // Bitbucket confirms before we act (docs/architecture.md §12): the rules see its answers, not the body's claims.
    const confirmed = await confirmWithBitbucket.confirm(event, stacks);
    const changes =
      commenter !== undefined && commenter.kind !== 'writer'
        ? {}
        : await lookUpChangedFiles(event, stacks, log, confirmed);
    const decide = (facts: ConfirmedFacts) =>
      decideTriggers({
        event,
        stacks,
        maxRunsPerEvent: deps.maxRunsPerEvent,
        ...changes,
        ...(commenter === undefined ? {} : { commenter }),
        confirmed: facts,
        ...(options.recovered === true ? { recovered: true } : {}),
      });
    let decision = decide(confirmed);
    const superseded = await confirmWithBitbucket.findSuperseded(event, decision.runs, confirmed);
    if (superseded.length > 0) decision = decide({ ...confirmed, superseded });
    reportUnconfirmed(decision, log);

    const h: EventHandling = {
      log,
      stacksById: new Map(stacks.map((s) => [s.id, s])),
      // Every announcement of this event is confirmed before it returns (and the event is acked), but
      // they are sent together rather than one confirm after another.
      publishes: createPublishBatch(),
      touchedStacks: new Set(),
    };
    // Cancel before creating: a superseded proposal must not be handed out after its successor.
    const canceledBySuccessor = await cancelSupersededRuns(decision.cancel, h);
    if (canceledBySuccessor.length > 0) deps.metrics.runsCanceled(canceledBySuccessor.length);
    const triggered = await queueTriggeredRuns(decision.runs, h);
    const retry = await retryRuns(event, decision.retry, h);
    reportOverCap(decision, log);
    const disabledMeanwhile = await cancelRunsOfDisabledStacks(h);
    await Promise.all(
      [...h.touchedStacks].map((stack) => dispatchRuns({ ...deps, logger: log }, stack, h.publishes)),
    );
    await h.publishes.settle();

    const created = [...triggered.created, ...retry.created];
    const replied = await answerCommentCommand(event, decision, {
      retried: retry.retried.length,
      created: created.length,
      operatorCanceled: retry.operatorCanceled.map((r) => h.stacksById.get(r.stackId)?.name ?? r.stackId),
    });
    const result: HandleVcsEventResult = {
      created,
      existing: [...triggered.existing, ...retry.existing],
      canceled: [...canceledBySuccessor, ...disabledMeanwhile],
      retried: retry.retried,
      overCap: decision.overCap,
      skipped: [
        ...decision.skipped,
        ...retry.operatorCanceled.map((r) => ({
          stackId: r.stackId,
          reason: 'refused' as const,
          detail: `run ${r.id} was canceled by an operator; a comment does not retry it`,
        })),
      ],
      ...(replied === undefined ? {} : { replied }),
      ...(decision.ignored === undefined ? {} : { ignored: decision.ignored }),
    };
    log.info('event handled', {
      type: event.type,
      created: result.created.length,
      existing: result.existing.length,
      canceled: result.canceled.length,
      retried: result.retried.length,
      overCap: result.overCap.length,
      ...(result.ignored === undefined ? {} : { ignored: result.ignored }),
    });
    return result;
  };

  async function recordSeenHeads(event: CanonicalEvent): Promise<void> {
    if (deps.seenHeads === undefined) return;
    const heads: { key: string; commit: string }[] = [];
    if (event.type === 'push') {
      for (const c of event.push.changes)
        if (c.refType === 'branch' && c.action !== 'deleted' && c.after)
          heads.push({ key: c.ref, commit: c.after });
    } else if (event.type === 'pull_request.opened' || event.type === 'pull_request.source_updated') {
      heads.push({ key: `pr:${event.pullRequest.id}`, commit: event.pullRequest.source.commit });
    }
    await deps.seenHeads.record(event.integrationId, event.repository, heads);
  }

  /** Refusals are warnings: a forged or replayed delivery, or Bitbucket and the body disagreeing. */
  function reportUnconfirmed(decision: TriggerDecision, log: Logger): void {
    for (const reason of ['refused', 'superseded', 'tag-off-branch'] as const) {
      const skipped = decision.skipped.filter((s) => s.reason === reason);
      if (skipped.length === 0) continue;
      deps.metrics.unconfirmed(reason, skipped.length);
      const details = [...new Set(skipped.map((s) => s.detail))];
      const fields = { reason, stackIds: skipped.map((s) => s.stackId), details };
      if (reason === 'refused') log.warn('Bitbucket contradicts the delivery: refused', fields);
      else log.info(`stacks not started: ${reason}`, fields);
    }
  }

  /** Runs over the per-event cap are not created: logged and counted, never dropped silently. */
  function reportOverCap(decision: TriggerDecision, log: Logger): void {
    if (decision.overCap.length === 0) return;
    deps.metrics.runsOverCap(decision.overCap.length);
    log.warn('runs over the per-event cap were not created', {
      cap: deps.maxRunsPerEvent,
      overCap: decision.overCap.length,
      stackIds: [...new Set(decision.overCap.map((r) => r.stackId))],
    });
  }
}

function nothingDone(): HandleVcsEventResult {
  return { created: [], existing: [], canceled: [], retried: [], overCap: [], skipped: [] };
}
