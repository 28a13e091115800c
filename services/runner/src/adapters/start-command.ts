import { spawn } from 'node:child_process';
import type { RunReadyMessage } from '@stacklink/contracts';
import type { CommandResult, RunningCommand } from '../domain/ports';
import { runEnvironment } from '../domain/run-environment';

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
