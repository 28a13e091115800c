import { getOrCreateCounter, processRegistry } from '@stacklink/http';
import type { TriggerMetricsPort } from '../domain/ports';

export function createPrometheusTriggerMetrics(registry = processRegistry()): TriggerMetricsPort {
  const created = getOrCreateCounter(registry, {
    name: 'stacklink_runs_created_total',
    help: 'Runs created, by run type',
    labelNames: ['type'] as const,
  });
  const overCap = getOrCreateCounter(registry, {
    name: 'stacklink_runs_over_cap_total',
    help: 'Runs not created because an event asked for more than MAX_RUNS_PER_EVENT',
  });
  const canceled = getOrCreateCounter(registry, {
    name: 'stacklink_runs_canceled_total',
    help: 'Queued proposed runs canceled by a newer commit or a closed pull request',
  });
  const unconfirmed = getOrCreateCounter(registry, {
    name: 'stacklink_trigger_unconfirmed_total',
    help: 'Stacks an event did not start because Bitbucket contradicted it (refused), a newer tracked run exists (superseded) or the tag is off the branch (tag-off-branch)',
    labelNames: ['reason'] as const,
  });
  const decided = getOrCreateCounter(registry, {
    name: 'stacklink_trigger_decisions_total',
    help: 'Stacks the trigger decided about, by outcome and skip reason (docs/architecture.md §13)',
    labelNames: ['outcome', 'reason'] as const,
  });
  return {
    stackDecided: (outcome, reason) => decided.inc({ outcome, reason: reason ?? '' }),
    runsCreated: (type, count) => created.inc({ type }, count),
    runsOverCap: (count) => overCap.inc(count),
    runsCanceled: (count) => canceled.inc(count),
    unconfirmed: (reason, count) => unconfirmed.inc({ reason }, count),
  };
}
