import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './role-process';

/** The built `stacklink` command (libs/cli). */
export const STACKLINK_MAIN = path.join(ROOT, 'libs', 'cli', 'dist', 'src', 'main.js');

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `stacklink` as an operator would, with only PATH and `env` in its environment (so nothing of the
 * test process's own configuration leaks in) and `stdin` written to it, and collects what it printed.
 */
export function runStacklink(
  args: string[],
  options: { cwd: string; env: Record<string, string>; stdin?: string },
): Promise<CommandResult> {
  return new Promise<CommandResult>((resolve, reject) => {
    const child = spawn(process.execPath, [STACKLINK_MAIN, ...args], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}
