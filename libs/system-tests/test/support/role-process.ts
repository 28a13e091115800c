import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import { waitFor } from '@stacklink/testing';

export const ROOT = path.resolve(__dirname, '../../../../..');

/** The compiled entry point of every role: the same paths scripts/up.sh starts (docs/architecture.md §10). */
export const ENTRY = {
  integration: 'services/integration/dist/src/roles/integration.js',
  'stack-trigger': 'services/stack-trigger/dist/src/roles/api.js',
  gateway: 'services/webhook-gateway/dist/src/roles/gateway.js',
  trigger: 'services/stack-trigger/dist/src/roles/trigger.js',
  reporter: 'services/stack-trigger/dist/src/roles/reporter.js',
  reconciler: 'services/stack-trigger/dist/src/roles/reconciler.js',
  runner: 'services/runner/dist/src/roles/runner.js',
  console: 'services/console/dist/src/roles/console.js',
} as const;

export type Role = keyof typeof ENTRY;

const KEPT_LINES = 300;

/**
 * One role as its own OS process: spawned from its compiled entry with its own environment, ready once
 * its `/readyz` answers 200; stdout and stderr go to `<logDir>/<name>.log` and the last lines stay in
 * memory for failure reports. `kill9` is a crash (no shutdown hook runs); `restart` is what
 * `make up ROLES=<role>` or a supervisor does after one.
 */
export class RoleProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private log: WriteStream | undefined;
  private readonly lines: string[] = [];
  /** Every pid this role had, oldest first (a restart adds one). */
  readonly pids: number[] = [];

  constructor(
    readonly name: string,
    readonly role: Role,
    readonly port: number,
    private readonly env: Record<string, string>,
    private readonly logDir: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(timeoutMs = 30_000): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.log ??= createWriteStream(path.join(this.logDir, `${this.name}.log`), { flags: 'a' });
    const child = spawn(process.execPath, ['--enable-source-maps', path.join(ROOT, ENTRY[this.role])], {
      cwd: ROOT,
      // Only what the role reads, plus PATH/HOME for the runner's /bin/sh: nothing of the test's env.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.pids.push(child.pid!);
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const keep = (chunk: Buffer) => {
      this.log?.write(chunk);
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') this.lines.push(line);
      if (this.lines.length > KEPT_LINES) this.lines.splice(0, this.lines.length - KEPT_LINES);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    try {
      await waitFor(
        async () => {
          if (!this.running) return 'exited';
          return (await fetch(`${this.url}/readyz`)).status === 200;
        },
        { timeoutMs, intervalMs: 100, message: `${this.name} did not answer /readyz` },
      ).then((outcome) => {
        if (outcome === 'exited')
          throw new Error(`${this.name} exited (${child.exitCode ?? child.signalCode}) before it was ready`);
      });
    } catch (err) {
      await this.kill9();
      throw new Error(`${(err as Error).message}\n${this.tail(40)}`);
    }
  }

  /** A crash: SIGKILL, no graceful shutdown; resolves once the process is gone. */
  async kill9(): Promise<void> {
    if (this.running) this.child!.kill('SIGKILL');
    await this.exited;
  }

  async restart(timeoutMs?: number): Promise<void> {
    await this.kill9();
    await this.start(timeoutMs);
  }

  /** Graceful: SIGTERM, then SIGKILL when it has not exited after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.running) {
      this.child!.kill('SIGTERM');
      const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    await new Promise<void>((resolve) => (this.log ? this.log.end(resolve) : resolve()));
    this.log = undefined;
  }

  /** The last lines it printed, for failure messages. */
  tail(count = 30): string {
    return this.lines
      .slice(-count)
      .map((l) => `  [${this.name}] ${l}`)
      .join('\n');
  }
}
