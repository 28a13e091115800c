import type { Logger } from '@stacklink/logger';
import type { RunQueuePort, RunRepositoryPort } from './ports';

/**
 * Losing Redis loses no run (docs/architecture.md §9): when the queue state is missing, it is rebuilt from
 * the store's QUEUED and RUNNING runs, in sequence order. Rebuilding twice is harmless.
 */
export async function rebuildRunQueue(
  deps: { runs: RunRepositoryPort; queue: RunQueuePort; logger: Logger },
  options: { force?: boolean } = {},
): Promise<{ rebuilt: boolean; runs: number }> {
  if (!options.force && (await deps.queue.isBuilt())) return { rebuilt: false, runs: 0 };
  const active = await deps.runs.listActive();
  await deps.queue.rebuild(active);
  deps.logger.info('run queue rebuilt from the store', { runs: active.length });
  return { rebuilt: true, runs: active.length };
}
