import { spawn } from 'node:child_process';
import type { RunReadyMessage } from '@stacklink/contracts';
import type { CommandOutput, CommandResult, RunningCommand } from '../domain/ports';
import { runEnvironment } from '../domain/run-environment';
import { createRunSummaryFiles, type RunSummaryFiles } from './run-summary-files';

/**
 * What a run command inherits from the runner's environment: the names a shell and the usual tools need,
 * nothing else. The runner's configuration (RUNNER_TOKEN, RABBITMQ_URL, …) is never among them: the
 * command runs code from a pull request, and a child could otherwise read its parent's secrets
 * (docs/architecture.md §12).
 */
export const INHERITED_VARIABLES = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LC_ALL',
  'TZ',
  'TMPDIR',
  'TERM',
];

/** The run command's environment: the inherited names that are set, then the run's STACKLINK_* variables. */
export function commandEnvironment(
  run: RunReadyMessage,
  env: NodeJS.ProcessEnv = process.env,
  extra: Record<string, string> = {},
): NodeJS.ProcessEnv {
  const inherited: NodeJS.ProcessEnv = { PATH: '/usr/bin:/bin' };
  for (const name of INHERITED_VARIABLES) if (env[name] !== undefined) inherited[name] = env[name];
  return { ...inherited, ...runEnvironment(run), ...extra };
}

/** The command's result with the run summary it wrote, read once it ended; the files are removed then. */
async function withRunSummary(
  result: Promise<CommandResult>,
  files: RunSummaryFiles,
): Promise<CommandResult> {
  const ended = await result;
  try {
    const found = files.read();
    const notes = [
      ...found.unreadable.map((name) => `${name}: not JSON, ignored`),
      ...(found.dropped > 0 ? [`${found.dropped} invalid annotation(s) dropped`] : []),
    ];
    return {
      ...ended,
      tail: [...ended.tail, ...notes],
      ...(found.summary === undefined ? {} : { summary: found.summary }),
    };
  } finally {
    files.remove();
  }
}

/**
 * Runs `command` with `/bin/sh -c` in `commandEnvironment(run)`; its output goes to `onOutput` as it
 * comes (the run log) and its last lines to the result.
 */
export function startCommand(
  command: string,
  run: RunReadyMessage,
  onOutput: CommandOutput = () => undefined,
  tailLines = 20,
): RunningCommand {
  const files = createRunSummaryFiles();
  const child = spawn('/bin/sh', ['-c', command], {
    env: commandEnvironment(run, process.env, files.env),
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
  child.stdout.on('data', (chunk: Buffer) => {
    onOutput('stdout', chunk);
    keep(chunk);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    onOutput('stderr', chunk);
    keep(chunk);
  });
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
  return { result: withRunSummary(result, files), stop };
}
