import type { RunSummary } from '@stacklink/contracts';

/** What the runner's work needs from the outside: stack-trigger's runs API and a running command. */

export type ReportedState = 'RUNNING' | 'FINISHED' | 'FAILED';

export interface RunsApi {
  /** False when stack-trigger answers 409: the run is no longer in a state that allows this one. */
  reportState(runId: string, state: ReportedState, note?: string, summary?: RunSummary): Promise<boolean>;
  /** False when the run has no lease any more (canceled, finished, or taken back). */
  renewLease(runId: string): Promise<boolean>;
}

export interface CommandResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines the command wrote (stdout and stderr), for the log and the run's note. */
  tail: string[];
  /** What the command wrote to STACKLINK_PLAN_JSON / STACKLINK_ANNOTATIONS_JSON, sent with the final state. */
  summary?: RunSummary;
}

export interface RunningCommand {
  result: Promise<CommandResult>;
  /** Asks the command to stop (SIGTERM), e.g. when its run was canceled. */
  stop(): void;
}
