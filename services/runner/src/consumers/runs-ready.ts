import type { MessageHandler } from '@stacklink/bus';
import { handleRunMessages, RUN_READY } from '@stacklink/contracts';
import { createExecuteRun, type ExecuteRunDeps } from '../domain/execute-run';

/**
 * `runs.ready`: checks each message against the run.ready contract (one that is not is parked at once)
 * and executes the run (domain/execute-run.ts).
 */
export function createRunsReadyConsumer(deps: ExecuteRunDeps): MessageHandler {
  return handleRunMessages(RUN_READY, createExecuteRun(deps));
}
