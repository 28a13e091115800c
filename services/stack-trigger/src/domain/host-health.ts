import type { HostAdmission, HostGate, HostVerdict } from '@stacklink/bitbucket';
import type { Logger } from '@stacklink/logger';
import type { HostHealthMetricsPort, HostHealthRecord, HostHealthStorePort } from './ports';

export interface HostHealthSettings {
  /** Host failures in a row that take an up host down. */
  failureThreshold: number;
  /** First pause after the host went down; doubles after every failed probe. */
  minPauseMs: number;
  /** Longest pause between probes. */
  maxPauseMs: number;
  /** How long one probe may hold the host before another caller may probe (its caller died). */
  probeLeaseMs: number;
}

const UP: HostHealthRecord = { state: 'up', failures: 0, pauseMs: 0, version: 0 };

/** What a caller may do, and the record to write for it (undefined: nothing changes). */
export function admitTransition(
  record: HostHealthRecord,
  now: number,
  settings: HostHealthSettings,
): { admission: HostAdmission; next?: HostHealthRecord } {
  if (record.state === 'up') return { admission: { allowed: true, probe: false } };
  const until = record.until ?? now;
  if (now < until) {
    // While a probe is out, come back after about one pause, not after its whole lease: a probe
    // usually ends long before its lease does.
    const retryInMs =
      record.state === 'probing' ? Math.min(until - now, Math.max(record.pauseMs, 1)) : until - now;
    return { admission: { allowed: false, retryInMs } };
  }
  // Down and the pause is over, or a probe whose caller never reported: this caller is the one probe.
  return {
    admission: { allowed: true, probe: true },
    next: { ...record, state: 'probing', until: now + settings.probeLeaseMs, version: record.version + 1 },
  };
}

/** The record after a call to the host went `outcome`. */
export function recordTransition(
  record: HostHealthRecord,
  outcome: 'up' | 'down',
  probe: boolean,
  now: number,
  settings: HostHealthSettings,
): HostHealthRecord {
  const version = record.version + 1;
  if (outcome === 'up') {
    return record.state === 'up' && record.failures === 0 ? record : { ...UP, version };
  }
  if (record.state === 'up') {
    const failures = record.failures + 1;
    if (failures < settings.failureThreshold) return { ...record, failures, version };
    const pauseMs = settings.minPauseMs;
    return { state: 'down', failures, downSince: now, pauseMs, until: now + pauseMs, version };
  }
  // A call admitted before the host went down failing late changes nothing; a failed probe pauses longer.
  if (!probe) return record;
  const pauseMs = Math.min(settings.maxPauseMs, record.pauseMs * 2);
  return { ...record, state: 'down', pauseMs, until: now + pauseMs, version };
}

export interface HostHealthDeps {
  store: HostHealthStorePort;
  metrics: HostHealthMetricsPort;
  logger: Logger;
  settings: HostHealthSettings;
  now?: () => number;
}

const MAX_CAS_TRIES = 5;

/**
 * A circuit breaker per Bitbucket host whose state lives in a shared store, so every worker and
 * replica stops calling a host together and only one of them probes it at a time
 * (docs/decisions/008-bitbucket-host-breaker.md). If the store itself is unreachable calls go through:
 * the breaker saves load, it must not become a second thing that can stop the work.
 */
export function createHostHealth(deps: HostHealthDeps): HostGate & { refresh(): Promise<void> } {
  const now = deps.now ?? Date.now;
  /** The hosts this process called, so the metrics can show the shared state of each at scrape time. */
  const known = new Set<string>();

  async function update<T>(
    host: string,
    step: (record: HostHealthRecord) => { result: T; next?: HostHealthRecord },
    /** When the store cannot be reached: calls go through. */
    unreachable: T,
    /** When other callers kept winning the compare-and-set: what their writes said, give or take. */
    contended: T,
  ): Promise<T> {
    known.add(host);
    try {
      for (let i = 0; i < MAX_CAS_TRIES; i++) {
        const record = (await deps.store.read(host)) ?? UP;
        const { result, next } = step(record);
        if (next === undefined || next === record) return result;
        if (await deps.store.compareAndSet(host, record.version, next)) {
          observe(host, record, next);
          return result;
        }
      }
    } catch (err) {
      deps.logger.warn('bitbucket host health unavailable; calling the host regardless', { host, err });
      return unreachable;
    }
    return contended;
  }

  function observe(host: string, before: HostHealthRecord, after: HostHealthRecord): void {
    deps.metrics.observed(host, after.state, after.state === 'up' ? undefined : after.downSince);
    if (before.state === 'up' && after.state === 'down') {
      deps.logger.error('bitbucket host is down; calls pause until a probe succeeds', {
        host,
        failures: after.failures,
        pauseMs: after.pauseMs,
      });
    } else if (before.state !== 'up' && after.state === 'up') {
      deps.logger.info('bitbucket host is back', {
        host,
        outageMs: before.downSince === undefined ? undefined : now() - before.downSince,
      });
    } else if (before.state === 'probing' && after.state === 'down') {
      deps.logger.warn('bitbucket host probe failed; pausing longer', { host, pauseMs: after.pauseMs });
    }
  }

  return {
    /** Reads every known host's shared record into the metrics (another replica may have moved it). */
    async refresh() {
      for (const host of known) {
        try {
          const record = (await deps.store.read(host)) ?? UP;
          deps.metrics.observed(host, record.state, record.state === 'up' ? undefined : record.downSince);
        } catch {
          // The store is unreachable: the metrics keep what this process saw last.
        }
      }
    },
    async admit(host) {
      const admission = await update<HostAdmission>(
        host,
        (record) => {
          const { admission, next } = admitTransition(record, now(), deps.settings);
          return next === undefined ? { result: admission } : { result: admission, next };
        },
        { allowed: true, probe: false },
        // Another caller changed the host's state meanwhile (it just went down, or took the probe).
        { allowed: false, retryInMs: deps.settings.minPauseMs },
      );
      if (!admission.allowed) deps.metrics.held(host);
      return admission;
    },
    async record(host, outcome, admission) {
      const probe = admission.allowed && admission.probe;
      return update<HostVerdict>(
        host,
        (record) => {
          const next = recordTransition(record, outcome, probe, now(), deps.settings);
          const down = next.state !== 'up';
          return { result: { down, retryInMs: down ? Math.max(0, (next.until ?? now()) - now()) : 0 }, next };
        },
        { down: false, retryInMs: 0 },
        // Others are writing outcomes right now; a failure among them means the host is likely down.
        outcome === 'down'
          ? { down: true, retryInMs: deps.settings.minPauseMs }
          : { down: false, retryInMs: 0 },
      );
    },
  };
}
