import type { Logger } from '@stacklink/logger';
import type { CanonicalEvent } from './canonical-event';
import { decideTriggers, needsChangedFiles, pushChangesToLookUp, type SkippedStack } from './decide-triggers';
import type { NewRun, Run, Stack } from './model';
import type {
  ChangedFilesPort,
  CommentRepliesPort,
  RunEventsPort,
  RunQueuePort,
  RunRepositoryPort,
  StackRepositoryPort,
  TriggerMetricsPort,
} from './ports';
import {
  cancelQueuedRunsOf,
  createPublishBatch,
  dispatchRuns,
  queueRun,
  stackDisabledNote,
} from './queue-run';
import type { ChangedFiles, RefChanges } from './stack-matches-files';

export interface HandleVcsEventDeps {
  stacks: StackRepositoryPort;
  runs: RunRepositoryPort;
  queue: RunQueuePort;
  changedFiles: ChangedFilesPort;
  runEvents: RunEventsPort;
  replies: CommentRepliesPort;
  metrics: TriggerMetricsPort;
  logger: Logger;
  maxRunsPerEvent: number;
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

const RETRYABLE_STATES = ['FAILED', 'CANCELED'] as const;

/**
 * The `trigger` worker's use case: applies the trigger rules (docs/architecture.md §7) to one canonical
 * event. Safe to run again for the same event: runs are unique per (stack, commit, type), cancel and retry
 * are compare-and-set.
 */
export function createHandleVcsEvent(
  deps: HandleVcsEventDeps,
): (event: CanonicalEvent) => Promise<HandleVcsEventResult> {
  return async (event) => {
    const log = deps.logger.child({
      eventId: event.id,
      deliveryId: event.deliveryId,
      integrationId: event.integrationId,
    });
    const result: HandleVcsEventResult = {
      created: [],
      existing: [],
      canceled: [],
      retried: [],
      overCap: [],
      skipped: [],
    };
    // A disabled stack starts no runs and is not named by comment commands: as if it did not exist.
    const stacks = (
      await deps.stacks.listByRepository(event.integrationId, {
        projectKey: event.repository.projectKey,
        slug: event.repository.slug,
      })
    ).filter((s) => s.enabled);
    if (stacks.length === 0 && event.type !== 'pull_request.comment_added') {
      result.ignored = 'no stack uses this repository';
      return result;
    }
    // One lookup per event, shared by every stack; a push is looked up ref by ref, so each ref is
    // matched against what it changed itself.
    let changedFiles: ChangedFiles | undefined;
    let refChanges: RefChanges[] | undefined;
    if (event.type === 'push') {
      const wanted = pushChangesToLookUp(event, stacks);
      if (wanted.length > 0) refChanges = await deps.changedFiles.pushChanges(event, wanted);
    } else if (needsChangedFiles(event, stacks)) {
      changedFiles = await deps.changedFiles.pullRequestChanges(event);
    }
    const truncated = [
      ...(changedFiles?.truncated ? ['pull request'] : []),
      ...(refChanges ?? []).filter((r) => r.files.truncated).map((r) => r.ref),
    ];
    if (truncated.length > 0)
      log.info('changed files truncated by Bitbucket: every candidate stack counts as touched', {
        truncated,
      });
    const decision = decideTriggers({
      event,
      stacks,
      maxRunsPerEvent: deps.maxRunsPerEvent,
      ...(changedFiles === undefined ? {} : { changedFiles }),
      ...(refChanges === undefined ? {} : { refChanges }),
    });
    result.skipped = decision.skipped;
    if (decision.ignored !== undefined) result.ignored = decision.ignored;
    const byId = new Map(stacks.map((s) => [s.id, s]));
    const touchedStacks = new Set<Stack>();
    // Every announcement of this event is confirmed before it returns (and the event is acked), but
    // they are sent together rather than one confirm after another.
    const publishes = createPublishBatch();

    // Cancel before creating: a superseded proposal must not be handed out after its successor.
    for (const plan of decision.cancel) {
      const canceled = await deps.runs.cancelQueuedProposed({ ...plan, note: plan.reason });
      for (const run of canceled) {
        await deps.queue.remove(run);
        const stack = byId.get(run.stackId);
        if (stack !== undefined) {
          publishes.add(deps.runEvents.publishStateChanged(run, stack));
          touchedStacks.add(stack);
        }
        log.info('run canceled', { runId: run.id, stackId: run.stackId, reason: plan.reason });
      }
      result.canceled.push(...canceled);
    }
    if (result.canceled.length > 0) deps.metrics.runsCanceled(result.canceled.length);

    for (const input of decision.runs) {
      const stack = byId.get(input.stackId);
      if (stack === undefined) continue;
      const { run, created } = await queueRun({ ...deps, logger: log }, stack, input, publishes);
      (created ? result.created : result.existing).push(run);
      touchedStacks.add(stack);
    }

    for (const { run: input } of decision.retry) {
      const stack = byId.get(input.stackId);
      if (stack === undefined) continue;
      const found = await deps.runs.find(input.stackId, input.commit, input.type);
      if (found === undefined) {
        const { run } = await queueRun({ ...deps, logger: log }, stack, input, publishes);
        result.created.push(run);
      } else {
        const note = `retried by comment ${eventCommentId(event)}`;
        const moved = await deps.runs.transition(found.id, RETRYABLE_STATES, 'QUEUED', note);
        if (!moved.ok) {
          if (found.state === 'QUEUED' && found.note === note) {
            // An earlier delivery of this very command moved it back to QUEUED and died before queueing
            // and announcing it: finish that (both idempotent), or the run would wait forever.
            const { run } = await queueRun({ ...deps, logger: log }, stack, input, publishes);
            result.retried.push(run);
            touchedStacks.add(stack);
          } else {
            result.existing.push(found);
          }
          continue;
        }
        await deps.queue.enqueue(moved.run);
        publishes.add(deps.runEvents.publishStateChanged(moved.run, stack));
        log.info('run retried', { runId: moved.run.id, stackId: stack.id });
        result.retried.push(moved.run);
      }
      touchedStacks.add(stack);
    }

    if (decision.overCap.length > 0) {
      result.overCap = decision.overCap;
      deps.metrics.runsOverCap(decision.overCap.length);
      log.warn('runs over the per-event cap were not created', {
        cap: deps.maxRunsPerEvent,
        overCap: decision.overCap.length,
        stackIds: [...new Set(decision.overCap.map((r) => r.stackId))],
      });
    }

    // A stack disabled while this event was handled (after the list above, before its runs were created)
    // must not keep them: disabling cancels the queued runs that exist when it does. So each stack that
    // got a run is read again; one disabled by now has its queued runs canceled here, as disabling
    // does, and nothing handed out. Either this read sees the disable, or the disable's cancel, which
    // comes after it, sees the run.
    for (const stack of [...touchedStacks]) {
      const current = await deps.stacks.get(stack.id);
      if (current?.enabled !== false) continue;
      touchedStacks.delete(stack);
      const canceled = await cancelQueuedRunsOf(
        deps,
        current,
        stackDisabledNote(current.disabledReason),
        publishes,
      );
      result.canceled.push(...canceled);
      if (canceled.length > 0) deps.metrics.runsCanceled(canceled.length);
      log.info('queued runs of a stack disabled meanwhile canceled', {
        stackId: stack.id,
        runIds: canceled.map((r) => r.id),
      });
    }
    await Promise.all(
      [...touchedStacks].map((stack) => dispatchRuns({ ...deps, logger: log }, stack, publishes)),
    );
    await publishes.settle();

    let reply = decision.reply;
    if (
      reply === undefined &&
      decision.retry.length > 0 &&
      result.retried.length === 0 &&
      result.created.length === 0
    ) {
      reply = 'Nothing to retry: the proposed runs of the latest commit are queued, running or finished.';
    }
    if (reply !== undefined && event.type === 'pull_request.comment_added') {
      await deps.replies.reply({
        integrationId: event.integrationId,
        repository: { projectKey: event.repository.projectKey, slug: event.repository.slug },
        pullRequestId: event.pullRequest.id,
        parentCommentId: event.comment.id,
        text: reply,
      });
      result.replied = reply;
    }
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
}

function eventCommentId(event: CanonicalEvent): string {
  return event.type === 'pull_request.comment_added' ? String(event.comment.id) : event.id;
}
