import type { Registry } from 'prom-client';
import { getOrCreateCounter, getOrCreateHistogram } from '@stacklink/http';
import type { GatewayMetricsPort } from '../domain/ports';

export function createGatewayMetrics(registry: Registry): GatewayMetricsPort {
  const deliveries = getOrCreateCounter(registry, {
    name: 'stacklink_gateway_deliveries_total',
    help: 'Webhook deliveries by Bitbucket event key and outcome',
    labelNames: ['event_key', 'outcome'] as const,
  });
  const signatureFailures = getOrCreateCounter(registry, {
    name: 'stacklink_gateway_signature_failures_total',
    help: 'Deliveries rejected for their signature, by reason',
    labelNames: ['reason'] as const,
  });
  const dedupHits = getOrCreateCounter(registry, {
    name: 'stacklink_gateway_dedup_hits_total',
    help: 'Deliveries recognised as already accepted (same X-Request-Id for the same integration)',
  });
  const publishSeconds = getOrCreateHistogram(registry, {
    name: 'stacklink_gateway_publish_duration_seconds',
    help: 'Time from publish to broker confirm',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
  });
  // Event keys come from a header anyone can send: keep the label set bounded.
  const known = new Set<string>();
  const label = (eventKey: string) => {
    if (known.has(eventKey)) return eventKey;
    if (known.size < 64 && /^[a-z:_]{1,40}$/.test(eventKey)) {
      known.add(eventKey);
      return eventKey;
    }
    return 'other';
  };
  // One labelled child per (event key, outcome), looked up once: inc() on it skips hashing the labels.
  const children = new Map<string, { inc(): void }>();
  return {
    delivery: (eventKey, outcome) => {
      // Keyed by the bounded label, never the raw header, so the map stays as small as the label set.
      const eventKeyLabel = label(eventKey);
      const key = `${eventKeyLabel}\u0000${outcome}`;
      let child = children.get(key);
      if (child === undefined) {
        child = deliveries.labels({ event_key: eventKeyLabel, outcome });
        children.set(key, child);
      }
      child.inc();
    },
    signatureFailure: (reason) => signatureFailures.inc({ reason }),
    dedupHit: () => dedupHits.inc(),
    publishSeconds: (s) => publishSeconds.observe(s),
  };
}
