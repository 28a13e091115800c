import { isAppError } from '@stacklink/errors';
import type { Logger } from '@stacklink/logger';
import type { RunReadyMessage } from '@stacklink/contracts';
import type { CommandOutput, CommandResult, RunningCommand, RunsApi } from './ports';
import { projectRootProblem } from './project-root-problem';
import { createRunLogShipper } from './ship-run-log';

export interface ExecuteRunDeps {
  api: RunsApi;
  start: (run: RunReadyMessage, output: CommandOutput) => RunningCommand;
  logger: Logger;
  leaseRenewMs: number;
  /** RUNNER_LOG_FLUSH_MS and RUNNER_LOG_BUFFER_BYTES: how the command's output is streamed to its run log. */
  log: { flushMs: number; bufferBytes: number };
  /** Final reports are tried this many times in-process (the command must not run twice). */
  reportTries?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Where commands run; a project root must resolve inside it. Default: the process's directory. */
  workDir?: string;
}

/**
 * Executes one ready run: claims it by reporting RUNNING (a 409 means it was canceled or started by another
 * runner: skipped), renews its lease while the command runs, and reports FINISHED or FAILED with the
 * exit code in the note. A redelivered message finds the run RUNNING and is skipped, so a command
 * never runs twice; a runner that dies mid-run leaves the lease to expire (stack-trigger takes it back).
 */
export function createExecuteRun(deps: ExecuteRunDeps): (run: RunReadyMessage) => Promise<void> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const reportTries = deps.reportTries ?? 6;

  async function reportResult(
    run: RunReadyMessage,
    result: CommandResult & { refused?: string },
  ): Promise<void> {
    const ok = result.refused === undefined && result.exitCode === 0;
    const note = result.refused ?? runnerNote(result);
    for (let n = 1; ; n++) {
      try {
        const accepted = await deps.api.reportState(
          run.runId,
          ok ? 'FINISHED' : 'FAILED',
          note,
          result.summary,
        );
        deps.logger.info(accepted ? 'run reported' : 'run result refused (canceled meanwhile)', {
          runId: run.runId,
          state: ok ? 'FINISHED' : 'FAILED',
          note,
        });
        return;
      } catch (err) {
        if (!isAppError(err) || !err.retryable || n >= reportTries) throw err;
        await sleep(Math.min(30_000, 500 * 2 ** (n - 1)));
      }
    }
  }

  /** The runner's word on how the command ended: the run's note and the log's last line. */
  function runnerNote(result: CommandResult): string {
    return result.signal !== null
      ? `killed by ${result.signal}`
      : `exit code ${result.exitCode ?? 'unknown'}`;
  }

  return async (run) => {
    const log = deps.logger.child({ runId: run.runId, stackId: run.stack.id });
    if (!(await deps.api.reportState(run.runId, 'RUNNING'))) {
      log.info('run skipped: it is no longer QUEUED (canceled, or started elsewhere)');
      return;
    }
    const problem = projectRootProblem(run.stack.projectRoot, deps.workDir ?? process.cwd());
    if (problem !== undefined) {
      log.warn('run refused: unsafe project root', { problem });
      await reportResult(run, { exitCode: null, signal: null, tail: [], refused: `refused: ${problem}` });
      return;
    }
    log.info('run started', { commit: run.commit, type: run.runType });
    const shipper = createRunLogShipper(run.runId, { api: deps.api, logger: log, ...deps.log });
    const command = deps.start(run, (stream, data) => shipper.write(stream, data));
    let canceled = false;
    const renew = setInterval(() => {
      deps.api.renewLease(run.runId).then(
        (held) => {
          if (held) {
            log.debug('lease renewed');
            return;
          }
          // 409: the run was canceled (or taken back) while we ran it; stop working on it.
          canceled = true;
          log.info('run no longer ours (canceled or lease lost); stopping its command');
          command.stop();
        },
        (err: unknown) => log.warn('lease renewal failed; will try again', { err }),
      );
    }, deps.leaseRenewMs);
    let result: CommandResult;
    try {
      result = await command.result;
    } finally {
      clearInterval(renew);
    }
    log.info('command ended', {
      exitCode: result.exitCode,
      signal: result.signal,
      output: result.tail.join('\n'),
    });
    // The whole log before the final state: a reader that sees the run final has seen all of it.
    if (!canceled) shipper.note(`${runnerNote(result)}`);
    await shipper.finish();
    if (canceled) return;
    await reportResult(run, result);
  };
}
