import { getOrCreateCounter, getOrCreateGauge, processRegistry } from '@stacklink/http';
import type { HostHealthMetricsPort, HostHealthRecord } from '../domain/ports';

const STATES: HostHealthRecord['state'][] = ['up', 'down', 'probing'];

/**
 * `stacklink_bitbucket_host_state{host,state}` (1 for the state this process last saw),
 * `stacklink_bitbucket_host_down_since_seconds{host}` (0 when up: alert on time() minus it) and
 * `stacklink_bitbucket_calls_held_total{host}`. Messages waiting per host are
 * `stacklink_bus_waited_total{code="BITBUCKET.HOST_DOWN"}` and the delay queues' depth.
 */
export function createPrometheusHostHealthMetrics(
  registry = processRegistry(),
): HostHealthMetricsPort & { refreshOnScrape(refresh: () => Promise<void>): void } {
  let refresh: (() => Promise<void>) | undefined;
  const state = getOrCreateGauge(registry, {
    name: 'stacklink_bitbucket_host_state',
    // Every scrape shows the shared state, also in a process that has not called the host since.
    collect: () => refresh?.(),
    help: 'Health of each Bitbucket host as this process last saw it: 1 for the current state (up, down, probing)',
    labelNames: ['host', 'state'] as const,
  });
  const downSince = getOrCreateGauge(registry, {
    name: 'stacklink_bitbucket_host_down_since_seconds',
    help: 'Unix time the current outage of a Bitbucket host began; 0 while it is up',
    labelNames: ['host'] as const,
  });
  const held = getOrCreateCounter(registry, {
    name: 'stacklink_bitbucket_calls_held_total',
    help: 'Bitbucket calls not sent because their host is down (the message waits on the bus)',
    labelNames: ['host'] as const,
  });
  return {
    observed(host, current, since) {
      for (const s of STATES) state.set({ host, state: s }, s === current ? 1 : 0);
      downSince.set({ host }, since === undefined ? 0 : Math.floor(since / 1000));
    },
    held: (host) => held.inc({ host }),
    refreshOnScrape: (fn) => {
      refresh = fn;
    },
  };
}
