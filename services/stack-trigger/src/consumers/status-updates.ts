import type { MessageHandler } from '@stacklink/bus';
import { handleRunMessages, RUN_STATE_CHANGED } from '@stacklink/contracts';
import type { createReportCommitStatus } from '../domain/report-commit-status';

/**
 * `stack-trigger.status-updates`: one `run.state_changed` per message, checked against its contract
 * (@stacklink/contracts). A message that is not one can never succeed, so it is parked at once
 * (RUNS.INVALID_MESSAGE, not retryable); Bitbucket's retryable errors go back to the bus.
 */
export function createStatusUpdatesConsumer(
  reportCommitStatus: ReturnType<typeof createReportCommitStatus>,
): MessageHandler {
  return handleRunMessages(RUN_STATE_CHANGED, async (update) => {
    await reportCommitStatus(update);
  });
}
