import type { Registry } from 'prom-client';
import { getOrCreateCounter, getOrCreateGauge } from '@stacklink/http';
import type { IntegrationMetricsPort, IntegrationRepositoryPort } from '../domain/ports';

/**
 * `stacklink_integrations` is read from the store at scrape time, so every replica reports the same
 * truth; the counters are per process.
 */
export function createIntegrationMetrics(
  registry: Registry,
  repository: IntegrationRepositoryPort,
): IntegrationMetricsPort {
  const integrations = getOrCreateGauge(registry, {
    name: 'stacklink_integrations',
    help: 'Integrations in the store',
  });
  // getOrCreate keeps the first collect function; replace it so the gauge reads this app's store.
  // A store that cannot answer (closed by a stopped app sharing the process registry, or down) keeps the
  // last value rather than failing the whole scrape; /readyz is what reports the store.
  (integrations as unknown as { collect: () => Promise<void> }).collect = async () => {
    const count = await repository.count().catch(() => undefined);
    if (count !== undefined) integrations.set(count);
  };
  const tests = getOrCreateCounter(registry, {
    name: 'stacklink_integration_connection_tests_total',
    help: 'Connection tests by outcome (ok, ok_legacy_build_status, dns, connection_refused, tls, not_bitbucket, unauthorized, no_projects, …)',
    labelNames: ['outcome'] as const,
  });
  const publishFailures = getOrCreateCounter(registry, {
    name: 'stacklink_integration_event_publish_failures_total',
    help: 'integration.* events that could not be published after the store commit',
    labelNames: ['type'] as const,
  });
  return {
    connectionTested: (outcome) => tests.inc({ outcome }),
    eventPublishFailed: (type) => publishFailures.inc({ type }),
  };
}
