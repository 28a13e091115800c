import type { Logger } from '@stacklink/logger';
import type { Run, Stack } from './model';
import type { RunEventsPort, RunQueuePort, RunRepositoryPort, StackRepositoryPort } from './ports';
import { dispatchRuns } from './queue-run';

export interface ExpireRunLeasesDeps {
  stacks: StackRepositoryPort;
  runs: RunRepositoryPort;
  queue: RunQueuePort;
  runEvents: RunEventsPort;
  logger: Logger;
}

export interface ExpiredLeases {
  requeued: Run[];
  failed: Run[];
}

/**
 * Handles runs whose lease ran out (docs/decisions/004-run-lease-expiry.md): a run no runner started
 * (still QUEUED) goes back to its place in the queue; a run a runner started (RUNNING) fails, because
 * an infrastructure change may have been half applied and only a person should run it again.
 */
export function createExpireRunLeases(deps: ExpireRunLeasesDeps) {
  return async (now?: number): Promise<ExpiredLeases> => {
    const result: ExpiredLeases = { requeued: [], failed: [] };
    const stacks = new Map<string, Stack | undefined>();
    for (const ref of await deps.queue.claimExpiredLeases(now)) {
      const run = await deps.runs.get(ref.id);
      if (run === undefined || (run.state !== 'QUEUED' && run.state !== 'RUNNING')) {
        await deps.queue.remove(ref);
      } else if (run.state === 'QUEUED') {
        await deps.queue.requeue(run);
        deps.logger.warn('run lease expired before a runner started it: requeued', {
          runId: run.id,
          stackId: run.stackId,
        });
        result.requeued.push(run);
      } else {
        const moved = await deps.runs.transition(
          run.id,
          ['RUNNING'],
          'FAILED',
          'lease expired: the runner stopped reporting',
        );
        await deps.queue.remove(run);
        if (moved.ok) {
          const stack = await loadStack(deps, stacks, run.stackId);
          if (stack !== undefined) await deps.runEvents.publishStateChanged(moved.run, stack);
          deps.logger.warn('run lease expired while running: failed', {
            runId: run.id,
            stackId: run.stackId,
          });
          result.failed.push(moved.run);
        }
      }
      if (!stacks.has(ref.stackId)) await loadStack(deps, stacks, ref.stackId);
    }
    for (const stack of stacks.values()) if (stack !== undefined) await dispatchRuns(deps, stack);
    return result;
  };
}

async function loadStack(
  deps: ExpireRunLeasesDeps,
  cache: Map<string, Stack | undefined>,
  id: string,
): Promise<Stack | undefined> {
  if (!cache.has(id)) cache.set(id, await deps.stacks.get(id));
  return cache.get(id);
}
