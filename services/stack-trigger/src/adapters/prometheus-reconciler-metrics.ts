import { getOrCreateCounter, getOrCreateGauge, processRegistry } from '@stacklink/http';
import type { ReconcilerMetricsPort } from '../domain/reconciler-ports';

/** The reconciler's metrics (docs/architecture.md §14), on its /metrics. */
export function createPrometheusReconcilerMetrics(): ReconcilerMetricsPort {
  const registry = processRegistry();
  const actions = getOrCreateCounter(registry, {
    name: 'stacklink_managed_webhook_actions_total',
    help: 'Managed webhook changes the reconciler made, and scopes it found forbidden',
    labelNames: ['action'] as const,
  });
  const cycles = getOrCreateCounter(registry, {
    name: 'stacklink_recovery_cycles_total',
    help: 'Missed-event recovery cycles the active reconciler ran',
    labelNames: [] as const,
  });
  const calls = getOrCreateCounter(registry, {
    name: 'stacklink_recovery_bitbucket_calls_total',
    help: 'Bitbucket listing calls of missed-event recovery (branch heads and open pull requests, paging included)',
    labelNames: [] as const,
  });
  const recovered = getOrCreateCounter(registry, {
    name: 'stacklink_recovered_events_total',
    help: 'Events no webhook brought, fed through the trigger path by missed-event recovery',
    labelNames: [] as const,
  });
  const leader = getOrCreateGauge(registry, {
    name: 'stacklink_reconciler_leader',
    help: '1 while this replica holds the reconciler lease',
    labelNames: [] as const,
  });
  return {
    webhookAction: (action) => actions.inc({ action }),
    recoveryCycle: (_repositories, bitbucketCalls, events) => {
      cycles.inc();
      calls.inc(bitbucketCalls);
      recovered.inc(events);
    },
    leader: (isLeader) => leader.set(isLeader ? 1 : 0),
  };
}
