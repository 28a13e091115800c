import type { CanonicalEvent } from './canonical-event';
import type { DeliveryDecision, StackDecision } from './delivery-history';
import type { HandleVcsEventResult } from './handle-vcs-event';
import type { Clock, DeliveryHistoryPort, TriggerMetricsPort } from './ports';

export interface RecordDecisionContext {
  /** The event this one repeats, when it is a redelivery. */
  redeliveryOf?: string;
  bitbucketCalls?: readonly string[];
}

/**
 * Records the trigger's decision for one handled event (docs/architecture.md §13), before the event is
 * acked: a crash before this point redelivers the event, which decides again and writes the same record
 * (keyed by event id), so no decision is lost and none is written twice.
 */
export function createRecordDecision(deps: {
  history: DeliveryHistoryPort;
  metrics: TriggerMetricsPort;
  clock?: Clock;
}) {
  const now = () => (deps.clock ? deps.clock.now() : new Date());
  return async (
    event: CanonicalEvent,
    result: HandleVcsEventResult,
    context: RecordDecisionContext = {},
  ): Promise<DeliveryDecision> => {
    const decision = buildDeliveryDecision(event, result, { ...context, decidedAt: now() });
    await deps.history.saveDecision(decision);
    for (const s of decision.stacks) deps.metrics.stackDecided?.(s.outcome, s.reason);
    return decision;
  };
}

/** The decision of one event, per stack of its repository, from what handling it did. */
export function buildDeliveryDecision(
  event: CanonicalEvent,
  result: HandleVcsEventResult,
  context: RecordDecisionContext & { decidedAt: Date },
): DeliveryDecision {
  const stacks: StackDecision[] = [];
  for (const run of result.created)
    stacks.push({ stackId: run.stackId, outcome: 'run-created', runId: run.id });
  for (const run of result.existing) {
    // A redelivery after a crash finds the runs this same event created before the crash: still its own.
    const own = run.trigger.eventId === event.id;
    stacks.push({
      stackId: run.stackId,
      outcome: own ? 'run-created' : 'existing-run',
      runId: run.id,
      ...(own
        ? {}
        : { detail: `run ${run.id} already exists for ${run.type} commit ${run.commit.slice(0, 12)}` }),
    });
  }
  for (const run of result.retried)
    stacks.push({ stackId: run.stackId, outcome: 'run-retried', runId: run.id });
  for (const run of result.canceled)
    stacks.push({
      stackId: run.stackId,
      outcome: 'run-canceled',
      runId: run.id,
      ...(run.note === undefined ? {} : { detail: run.note }),
    });
  for (const run of result.overCap)
    stacks.push({
      stackId: run.stackId,
      outcome: 'skipped',
      reason: 'over-cap',
      detail: `the event asked for more runs than the per-event cap; ${run.type} run on ${run.commit.slice(0, 12)} not created`,
    });
  for (const s of result.skipped)
    stacks.push({ stackId: s.stackId, outcome: 'skipped', reason: s.reason, detail: s.detail });

  const runIds = [
    ...new Set(
      [...result.created, ...result.existing, ...result.retried, ...result.canceled].map((r) => r.id),
    ),
  ];
  return {
    eventId: event.id,
    deliveryId: event.deliveryId,
    integrationId: event.integrationId,
    repository: { projectKey: event.repository.projectKey, slug: event.repository.slug },
    type: event.type,
    receivedAt: event.receivedAt,
    decidedAt: context.decidedAt.toISOString(),
    ...(context.redeliveryOf === undefined ? {} : { redeliveryOf: context.redeliveryOf }),
    summary: summarizeEvent(event),
    event,
    stacks,
    runIds,
    ...(result.ignored === undefined ? {} : { ignored: result.ignored }),
    ...(result.replied === undefined ? {} : { replied: result.replied }),
    bitbucketCalls: [...(context.bitbucketCalls ?? [])],
  };
}

/** One line saying what the event was: `push to refs/heads/main (1a2b3c4d5e6f) by alice`. */
export function summarizeEvent(event: CanonicalEvent): string {
  const by = `by ${event.actor.name}`;
  const repo = `${event.repository.projectKey}/${event.repository.slug}`;
  if (event.type === 'push') {
    const changes = event.push.changes.map((c) =>
      c.action === 'deleted' || c.after === null ? `${c.ref} deleted` : `${c.ref} (${c.after.slice(0, 12)})`,
    );
    return `push to ${repo}: ${changes.join(', ') || 'no ref changes'} ${by}`;
  }
  const pr = event.pullRequest;
  const head = `${event.type} on ${repo} pull request #${pr.id}`;
  if (event.type === 'pull_request.comment_added')
    return `${head}: comment ${event.comment.text.slice(0, 80)} ${by}`;
  return `${head} "${pr.title}": ${pr.source.ref} (${pr.source.commit.slice(0, 12)}) → ${pr.target.ref} ${by}`;
}
