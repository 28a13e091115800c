import type { Logger } from '@stacklink/logger';
import type { NewRun, Run, Stack } from './model';
import type { RunEventsPort, RunQueuePort, RunRepositoryPort, TriggerMetricsPort } from './ports';

export interface QueueRunDeps {
  runs: RunRepositoryPort;
  queue: RunQueuePort;
  runEvents: RunEventsPort;
  metrics: TriggerMetricsPort;
  logger: Logger;
}

/**
 * Creates the run (idempotent on stack, commit and type) and puts it in its stack's queue. A run that
 * already exists and is still QUEUED is enqueued and announced again: a worker that died between the
 * insert and the enqueue leaves exactly that, and the redelivered event must finish the job
 * (DESIGN.md §9). Enqueue is idempotent and the reporter drops announcements it has seen by version.
 */
export async function queueRun(
  deps: QueueRunDeps,
  stack: Stack,
  input: NewRun,
): Promise<{ run: Run; created: boolean }> {
  const { run, created } = await deps.runs.create(input);
  if (run.state === 'QUEUED') {
    await deps.queue.enqueue(run);
    await deps.runEvents.publishStateChanged(run, stack);
  }
  if (created) {
    deps.metrics.runsCreated(run.type, 1);
    deps.logger.info('run created', {
      runId: run.id,
      stackId: run.stackId,
      type: run.type,
      commit: run.commit,
      trigger: run.trigger.kind,
      eventId: run.trigger.eventId,
    });
  }
  return { run, created };
}

/** Hands out what the stack's queue lets start now and announces it to the runners (`run.ready`). */
export async function dispatchRuns(
  deps: Pick<QueueRunDeps, 'runs' | 'queue' | 'runEvents' | 'logger'>,
  stack: Stack,
): Promise<Run[]> {
  const ids = await deps.queue.dispatch(stack.id);
  const ready: Run[] = [];
  for (const id of ids) {
    const run = await deps.runs.get(id);
    if (run === undefined || run.state !== 'QUEUED') {
      // Canceled or deleted between enqueue and dispatch: nothing to hand out, free its slot.
      if (run !== undefined) await deps.queue.remove(run);
      continue;
    }
    await deps.runEvents.publishRunReady(run, stack);
    deps.logger.info('run ready', { runId: run.id, stackId: stack.id, type: run.type });
    ready.push(run);
  }
  return ready;
}
