import { spawn } from 'node:child_process';
import type { RunReadyMessage } from '@stacklink/contracts';

export interface CommandResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines the command wrote (stdout and stderr), for the log and the run's note. */
  tail: string[];
}

export interface RunningCommand {
  result: Promise<CommandResult>;
  /** Asks the command to stop (SIGTERM), e.g. when its run was canceled. */
  stop(): void;
}

/** What the command sees of its run: STACKLINK_* variables (README "Runner contract"). */
export function runEnvironment(run: RunReadyMessage): Record<string, string> {
  return {
    STACKLINK_RUN_ID: run.runId,
    STACKLINK_RUN_TYPE: run.runType,
    STACKLINK_RUN_VERSION: String(run.version),
    STACKLINK_COMMIT: run.commit,
    STACKLINK_REF: run.ref,
    STACKLINK_STACK_ID: run.stack.id,
    STACKLINK_STACK_NAME: run.stack.name,
    STACKLINK_INTEGRATION_ID: run.stack.integrationId,
    STACKLINK_PROJECT_KEY: run.stack.repository.projectKey,
    STACKLINK_REPOSITORY: run.stack.repository.slug,
    STACKLINK_PROJECT_ROOT: run.stack.projectRoot,
    ...(run.pullRequest === undefined ? {} : { STACKLINK_PULL_REQUEST_ID: String(run.pullRequest.id) }),
  };
}

/**
 * Runs `command` with `/bin/sh -c`. The command gets PATH, HOME and the run's variables only: the
 * runner's own secrets (ADMIN_TOKEN) are not its business.
 */
export function startCommand(command: string, run: RunReadyMessage, tailLines = 20): RunningCommand {
  const child = spawn('/bin/sh', ['-c', command], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...(process.env.HOME === undefined ? {} : { HOME: process.env.HOME }),
      ...runEnvironment(run),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so stop() reaches everything the command started (a shell's children,
    // terraform's provider plugins), not just /bin/sh.
    detached: true,
  });
  const tail: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line === '') continue;
      tail.push(line);
      if (tail.length > tailLines) tail.shift();
    }
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const result = new Promise<CommandResult>((resolve) => {
    child.once('error', (err) => resolve({ exitCode: 127, signal: null, tail: [...tail, err.message] }));
    child.once('close', (exitCode, signal) => resolve({ exitCode, signal, tail }));
  });
  const stop = () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
    } catch {
      // The group is already gone.
    }
  };
  return { result, stop };
}
