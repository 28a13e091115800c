import type { RunSummary } from '@stacklink/contracts';

/** What the runner's work needs from the outside: stack-trigger's runs API and a running command. */

import type { LogChunk } from '@stacklink/contracts';

export type ReportedState = 'RUNNING' | 'FINISHED' | 'FAILED';

export interface RunsApi {
  /** False when stack-trigger answers 409: the run is no longer in a state that allows this one. */
  reportState(runId: string, state: ReportedState, note?: string, summary?: RunSummary): Promise<boolean>;
  /** False when the run has no lease any more (canceled, finished, or taken back). */
  renewLease(runId: string): Promise<boolean>;
  /**
   * Sends log chunks (`POST /runs/{id}/logs`). `closed` when stack-trigger takes no more for the run (404,
   * 409 LOGS.RUN_CLOSED); a retryable error when it did not answer.
   */
  appendLogs(runId: string, chunks: LogChunk[]): Promise<'stored' | 'closed'>;
}

export interface CommandResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines the command wrote (stdout and stderr), for the log and the run's note. */
  tail: string[];
  /** What the command wrote to STACKLINK_PLAN_JSON / STACKLINK_ANNOTATIONS_JSON, sent with the final state. */
  summary?: RunSummary;
}

/** Where a command's output goes as it is written. */
export type CommandOutput = (stream: 'stdout' | 'stderr', data: Buffer) => void;

export interface RunningCommand {
  result: Promise<CommandResult>;
  /** Asks the command to stop (SIGTERM), e.g. when its run was canceled. */
  stop(): void;
}
