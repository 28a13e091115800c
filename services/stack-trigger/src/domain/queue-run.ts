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
 * Announcements of one event, sent without waiting for each confirm in turn: the broker confirms a
 * batch of publishes in about the time of one. Independent publishes only — the store and the Redis
 * queue have already changed when a publish starts — and the caller settles the batch before it
 * returns, so the event is acknowledged only once every announcement is confirmed (at-least-once).
 */
export interface PublishBatch {
  add(publish: Promise<void>): void;
  /** Resolves once every publish added is confirmed; rejects with the first failure. */
  settle(): Promise<void>;
}

export function createPublishBatch(): PublishBatch {
  const pending: Promise<void>[] = [];
  return {
    add(publish) {
      // Handled now, so a failure while other work is awaited is not an unhandled rejection; settle()
      // still rejects with it.
      publish.catch(() => undefined);
      pending.push(publish);
    },
    async settle() {
      await Promise.all(pending.splice(0));
    },
  };
}

/**
 * Creates the run (idempotent on stack, commit and type) and puts it in its stack's queue. A run that
 * already exists and is still QUEUED is enqueued and announced again: a worker that died between the
 * insert and the enqueue leaves exactly that, and the redelivered event must finish the job
 * (docs/architecture.md §9). Enqueue is idempotent and the reporter drops announcements it has seen by
 * version. A still-QUEUED run that is already handed out gets its `run.ready` again (the worker died after
 * the dispatch): same message id, and runners skip a run they cannot move to RUNNING.
 * With a `publishes` batch the announcement is added to it instead of awaited here.
 */
export async function queueRun(
  deps: QueueRunDeps,
  stack: Stack,
  input: NewRun,
  publishes?: PublishBatch,
): Promise<{ run: Run; created: boolean }> {
  const { run, created } = await deps.runs.create(input);
  if (run.state === 'QUEUED') {
    const placed = await deps.queue.enqueue(run);
    await publish(publishes, deps.runEvents.publishStateChanged(run, stack));
    if (placed === 'handed_out') {
      // Handed out but still QUEUED: a worker died after the dispatch and before run.ready, and no
      // runner knows about it; without this it would wait for its lease to expire (RUN_LEASE_SECONDS).
      // It is the same run that holds the stack's slot, so the order of tracked runs is unchanged, and
      // a runner that gets it twice is refused RUNNING (409) the second time and skips it.
      await publish(publishes, deps.runEvents.publishRunReady(run, stack));
      deps.logger.info('run ready (announced again)', { runId: run.id, stackId: stack.id, type: run.type });
    }
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
  publishes?: PublishBatch,
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
    await publish(publishes, deps.runEvents.publishRunReady(run, stack));
    deps.logger.info('run ready', { runId: run.id, stackId: stack.id, type: run.type });
    ready.push(run);
  }
  return ready;
}

/** Adds the publish to the batch, or awaits it when there is none. */
export async function publish(publishes: PublishBatch | undefined, sent: Promise<void>): Promise<void> {
  if (publishes === undefined) await sent;
  else publishes.add(sent);
}

/** The note of a run canceled because its stack was disabled. */
export function stackDisabledNote(reason?: string): string {
  return reason === undefined ? 'stack disabled' : `stack disabled: ${reason}`;
}

/**
 * Cancels the stack's QUEUED runs (waiting, or handed out but not started), takes them out of the Redis
 * queue and announces each; RUNNING runs are left to finish. Answers the runs canceled.
 */
export async function cancelQueuedRunsOf(
  deps: Pick<QueueRunDeps, 'runs' | 'queue' | 'runEvents'>,
  stack: Stack,
  note: string,
  publishes: PublishBatch,
): Promise<Run[]> {
  const canceled = await deps.runs.cancelQueued({ stackId: stack.id, note });
  for (const run of canceled) {
    await deps.queue.remove(run);
    publishes.add(deps.runEvents.publishStateChanged(run, stack));
  }
  return canceled;
}
