import type { Bus } from '@stacklink/bus';
import type { Run, Stack } from '../domain/model';
import type { RunEventsPort } from '../domain/ports';
import {
  RUN_READY,
  RUN_STATE_CHANGED,
  RUNS_EXCHANGE,
  runMessageHeaders,
  toRunMessage,
  type RunMessage,
} from '../run-messages';

/**
 * `run.state_changed` and `run.ready` on the `runs` exchange (src/run-messages.ts is the contract),
 * each resolved only once the broker confirmed it. The message id is `${runId}:${version}:${type}`:
 * a redelivered event that announces the same state again sends a recognisably identical message.
 */
export function createBusRunEvents(
  bus: Pick<Bus, 'publish'>,
  now: () => Date = () => new Date(),
): RunEventsPort {
  const publish = async (type: RunMessage['type'], run: Run, stack: Stack): Promise<void> => {
    const message = toRunMessage(type, run, stack, now());
    await bus.publish(RUNS_EXCHANGE, type, message, {
      messageId: `${run.id}:${run.version}:${type}`,
      headers: runMessageHeaders(message),
    });
  };
  return {
    publishStateChanged: (run, stack) => publish(RUN_STATE_CHANGED, run, stack),
    publishRunReady: (run, stack) => publish(RUN_READY, run, stack),
  };
}
