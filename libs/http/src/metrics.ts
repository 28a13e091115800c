import { collectDefaultMetrics, Counter, Histogram, Gauge, Registry, register } from 'prom-client';

/**
 * Metrics are get-or-create by name: several apps or buses in one process (tests, `make up` in one
 * process) must not fail with "already registered".
 */
export function getOrCreateCounter<L extends string>(
  registry: Registry,
  config: { name: string; help: string; labelNames?: readonly L[] },
): Counter<L> {
  return (
    (registry.getSingleMetric(config.name) as Counter<L> | undefined) ??
    new Counter({ ...config, registers: [registry] })
  );
}

export function getOrCreateHistogram<L extends string>(
  registry: Registry,
  config: { name: string; help: string; labelNames?: readonly L[]; buckets?: number[] },
): Histogram<L> {
  return (
    (registry.getSingleMetric(config.name) as Histogram<L> | undefined) ??
    new Histogram({ ...config, registers: [registry] })
  );
}

export function getOrCreateGauge<L extends string>(
  registry: Registry,
  config: {
    name: string;
    help: string;
    labelNames?: readonly L[];
    collect?: (this: Gauge<L>) => void | Promise<void>;
  },
): Gauge<L> {
  return (
    (registry.getSingleMetric(config.name) as Gauge<L> | undefined) ??
    new Gauge({ ...config, registers: [registry] })
  );
}

const withDefaults = new WeakSet<Registry>();

/** The process registry: prom-client's global one, with Node's default process metrics once. */
export function processRegistry(registry: Registry = register): Registry {
  if (!withDefaults.has(registry)) {
    withDefaults.add(registry);
    collectDefaultMetrics({ register: registry, prefix: 'stacklink_' });
  }
  return registry;
}
