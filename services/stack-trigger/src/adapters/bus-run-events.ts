import type { Bus } from '@stacklink/bus';
import { publishRunMessage, RUN_READY, RUN_STATE_CHANGED, type RunMessage } from '@stacklink/contracts';
import type { Run, Stack } from '../domain/model';
import type { RunEventsPort } from '../domain/ports';

/** The `runs` message (@stacklink/contracts) that announces `run` of `stack`. */
export function toRunMessage<T extends RunMessage['type']>(
  type: T,
  run: Run,
  stack: Stack,
  now = new Date(),
): RunMessage<T> {
  return {
    specVersion: 1,
    type,
    runId: run.id,
    version: run.version,
    state: run.state,
    runType: run.type,
    commit: run.commit,
    ref: run.ref,
    ...(run.note === undefined ? {} : { note: run.note }),
    ...(run.pullRequest === undefined ? {} : { pullRequest: run.pullRequest }),
    ...(run.startedAt === undefined ? {} : { startedAt: run.startedAt }),
    ...(run.summary === undefined ? {} : { summary: run.summary }),
    trigger: run.trigger,
    stack: {
      id: stack.id,
      name: stack.name,
      integrationId: stack.integrationId,
      repository: { ...stack.repository },
      projectRoot: stack.projectRoot,
    },
    occurredAt: now.toISOString(),
  };
}

/**
 * `run.state_changed` and `run.ready` on the `runs` exchange, checked against their contract
 * (@stacklink/contracts) and each resolved only once the broker confirmed it. The message id is
 * `${runId}:${version}:${type}`: a redelivered event that announces the same state again sends a
 * recognisably identical message.
 */
export function createBusRunEvents(
  bus: Pick<Bus, 'publish'>,
  now: () => Date = () => new Date(),
): RunEventsPort {
  const publish = (type: RunMessage['type'], run: Run, stack: Stack): Promise<void> =>
    publishRunMessage(bus, toRunMessage(type, run, stack, now()));
  return {
    publishStateChanged: (run, stack) => publish(RUN_STATE_CHANGED, run, stack),
    publishRunReady: (run, stack) => publish(RUN_READY, run, stack),
  };
}
