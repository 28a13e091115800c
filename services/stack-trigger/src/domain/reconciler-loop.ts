import type { Logger } from '@stacklink/logger';
import type { StackRepositoryPort } from './ports';
import type { ReconcilerLeasePort, ReconcilerMetricsPort } from './reconciler-ports';

export interface ReconcilerLoopDeps {
  lease: ReconcilerLeasePort;
  stacks: StackRepositoryPort;
  reconcileWebhooks: (integrationId: string) => Promise<unknown>;
  recoverMissedEvents: () => Promise<unknown>;
  ensureRunQueue: () => Promise<unknown>;
  metrics: ReconcilerMetricsPort;
  logger: Logger;
  leaseMs: number;
  webhookIntervalMs: number;
  recoveryIntervalMs: number;
  now?: () => number;
}

/**
 * The reconciler's schedule (docs/architecture.md §14): every third of the lease it takes or renews the
 * lease; the holder reconciles the integrations that changed at once, every integration with stacks
 * every WEBHOOK_RECONCILE_INTERVAL, and recovers missed events every RECOVERY_INTERVAL. One piece of
 * work at a time. A replica that loses the lease mid-cycle stops at its next fencing check.
 */
export function createReconcilerLoop(deps: ReconcilerLoopDeps) {
  const now = deps.now ?? Date.now;
  const pending = new Set<string>();
  let leader = false;
  let nextWebhooks = 0;
  let nextRecovery = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let busy = false;
  let stopped = false;

  const tick = async (): Promise<void> => {
    const token = await deps.lease.acquire();
    if (token === undefined) {
      if (leader) deps.logger.warn('reconciler lease lost to another replica');
      leader = false;
      deps.metrics.leader(false);
      return;
    }
    if (!leader) {
      deps.logger.info('reconciler lease taken: this replica is active', { token });
      // A new term starts with a full pass: the previous holder may have died mid-cycle.
      nextWebhooks = 0;
      nextRecovery = 0;
    }
    leader = true;
    deps.metrics.leader(true);
    const integrations = new Set(pending);
    pending.clear();
    if (now() >= nextWebhooks) {
      nextWebhooks = now() + deps.webhookIntervalMs;
      for (const s of await deps.stacks.list()) integrations.add(s.integrationId);
    }
    for (const integrationId of integrations) {
      try {
        await deps.reconcileWebhooks(integrationId);
      } catch (err) {
        if (lostLease(err)) throw err;
        deps.logger.warn('webhook reconcile failed; trying again next interval', { integrationId, err });
      }
    }
    if (now() >= nextRecovery) {
      nextRecovery = now() + deps.recoveryIntervalMs;
      await deps.ensureRunQueue();
      await deps.recoverMissedEvents();
    }
  };

  const run = (): void => {
    if (stopped || busy) return;
    busy = true;
    running = tick()
      .catch((err: unknown) => {
        if (lostLease(err)) {
          leader = false;
          deps.metrics.leader(false);
          deps.logger.warn('reconciler lease lost mid-cycle: no further change made', { err });
        } else deps.logger.warn('reconciler cycle failed', { err });
      })
      .finally(() => {
        busy = false;
      });
  };

  return {
    start(): void {
      const every = Math.max(
        50,
        Math.floor(Math.min(deps.leaseMs / 3, deps.recoveryIntervalMs, deps.webhookIntervalMs)),
      );
      timer = setInterval(run, every);
      run();
    },
    /** A stack or integration changed: reconcile it at the next tick (at once if idle). */
    changed(integrationId: string): void {
      pending.add(integrationId);
      run();
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearInterval(timer);
      await running;
      // A stopping replica hands over at once instead of after the lease runs out.
      await deps.lease.release().catch(() => undefined);
      deps.metrics.leader(false);
    },
  };
}

function lostLease(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === 'RECONCILER.LEASE_LOST';
}
