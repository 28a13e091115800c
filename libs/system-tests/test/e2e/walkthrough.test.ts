import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { RABBITMQ_URL, REDIS_URL, uniqueNamespace, waitFor } from '@stacklink/testing';
import { ROOT } from '../support/role-process';
import { deleteSystemNamespace, freePort } from '../support/system';

/** Runs a script of scripts/ with env; resolves with its exit code and output. */
function runScript(name: string, env: Record<string, string>) {
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn('bash', [path.join(ROOT, 'scripts', name)], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** /proc/<pid>/stat, or '' once the process is gone entirely. */
function readProcStat(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return '';
  }
}

/**
 * The README's newcomer path as CI runs it: scripts/up.sh (what `make up` runs), then
 * scripts/walkthrough.sh, then scripts/down.sh. Its own RUN_DIR, DATA_DIR, ports and NAMESPACE, so a
 * developer's own `make up` on the default ports is never touched.
 */
describe('end to end: the README walkthrough after make up', function () {
  this.timeout(120_000);
  const namespace = uniqueNamespace('walkthrough');
  const dir = mkdtempSync(path.join(tmpdir(), 'stacklink-walkthrough-'));
  let env: Record<string, string>;

  before(async () => {
    const base: Record<string, string> = {};
    // Only the machine's basics: no token or port of the developer's shell may leak in.
    for (const name of ['PATH', 'HOME', 'LANG', 'TMPDIR']) {
      const value = process.env[name];
      if (value !== undefined) base[name] = value;
    }
    env = {
      ...base,
      RUN_DIR: path.join(dir, 'run'),
      DATA_DIR: path.join(dir, 'data'),
      NAMESPACE: namespace,
      RABBITMQ_URL,
      REDIS_URL,
      GATEWAY_PORT: String(await freePort()),
      INTEGRATION_PORT: String(await freePort()),
      STACK_TRIGGER_PORT: String(await freePort()),
      TRIGGER_METRICS_PORT: String(await freePort()),
      REPORTER_METRICS_PORT: String(await freePort()),
      RECONCILER_METRICS_PORT: String(await freePort()),
      RUNNER_METRICS_PORT: String(await freePort()),
      CONSOLE_PORT: String(await freePort()),
      SIM_PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
    };
  });

  after(async () => {
    const down = await runScript('down.sh', env);
    if (down.code !== 0) console.error(down.output);
    await deleteSystemNamespace(namespace);
    rmSync(dir, { recursive: true, force: true });
  });

  it('make up starts every role and returns once each answers /readyz', async () => {
    const up = await runScript('up.sh', env);
    expect(up.code, up.output).to.equal(0);
    for (const role of [
      'integration',
      'stack-trigger',
      'gateway',
      'trigger',
      'reporter',
      'reconciler',
      'runner',
      'console',
    ])
      expect(up.output, up.output).to.include(`make up: ${role} ready`);
    expect(up.output).to.include(`make up: console on http://127.0.0.1:${env.CONSOLE_PORT}`);
  });

  it('the walkthrough gets from a new integration to a FINISHED run and a SUCCESSFUL commit status', async () => {
    const walk = await runScript('walkthrough.sh', env);
    expect(walk.code, walk.output).to.equal(0);
    expect(walk.output).to.include('walkthrough: OK');
    // Driven by the `stacklink` command, as the README shows: its status table and the delivery's decision.
    expect(walk.output).to.match(/stack-trigger\.vcs-events\s+trigger\s+[1-9]/);
    expect(walk.output).to.match(/network-\S+\s+run-created/);
  });

  it('make up again restarts a role killed with SIGKILL and leaves the others alone', async () => {
    const pidFile = path.join(env.RUN_DIR!, 'trigger.pid');
    const killed = Number(readFileSync(pidFile, 'utf8'));
    process.kill(killed, 'SIGKILL');
    // up.sh's children are not ours: nobody may reap the dead one, which then lingers as a zombie that
    // `kill -0` still reports alive. up.sh must see it as dead all the same.
    await waitFor(() => !/^[^)]*\) [RSD]/.test(readProcStat(killed)), {
      message: 'the trigger process dies',
    });

    const again = await runScript('up.sh', env);
    expect(again.code, again.output).to.equal(0);
    expect(again.output).to.match(/make up: started trigger/);
    expect(again.output).to.include('make up: trigger ready');
    for (const role of [
      'integration',
      'stack-trigger',
      'gateway',
      'reporter',
      'reconciler',
      'runner',
      'console',
    ])
      expect(again.output).to.include(`make up: ${role} already running`);
    expect(Number(readFileSync(pidFile, 'utf8'))).not.to.equal(killed);
  });

  it('make down stops what make up started', async () => {
    const down = await runScript('down.sh', env);
    expect(down.code, down.output).to.equal(0);
    // Eight processes: the reconciler joined the seven (docs/architecture.md §14).
    expect(down.output.match(/make down: stopping/g), down.output).to.have.length(8);
  });
});
