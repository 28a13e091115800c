import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import { deleteNamespace, RABBITMQ_URL, uniqueNamespace, waitFor } from '@stacklink/testing';
import { newMasterKey } from '../support/keys';
import { createTempDir } from '../support/temp-dir';

/** dist/test/integration → dist/src/roles/integration.js */
const MAIN = resolve(__dirname, '..', '..', 'src', 'roles', 'integration.js');

interface Spawned {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function start(env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env } });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

describe('the integration process (src/roles/integration.ts)', () => {
  let dir: ReturnType<typeof createTempDir>;
  const namespace = uniqueNamespace('integration-main');
  before(() => {
    dir = createTempDir('main');
  });
  after(async () => {
    dir.remove();
    await deleteNamespace({ namespace, amqpUrl: RABBITMQ_URL, exchanges: ['integration.events'] });
  });

  it('starts on the embedded store and RabbitMQ, answers /readyz, and stops cleanly on SIGTERM', async () => {
    const proc = start({
      PORT: '0',
      STORE_URL: `sqlite:${join(dir.path, 'data', 'stacklink.db')}`,
      ADMIN_TOKEN: 'admin-token-main-0123456789',
      INTERNAL_TOKEN: 'internal-token-main-0123456789',
      MASTER_KEY: newMasterKey(),
      RABBITMQ_URL,
      NAMESPACE: namespace,
    });
    try {
      const url = await waitFor(() => /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(proc.stdout())?.[1], {
        timeoutMs: 10_000,
        message: `the process logs where it listens (stderr: ${proc.stderr()})`,
      });
      const ready = await fetch(`${url}/readyz`);
      expect(ready.status).to.equal(200);
      expect(await ready.json()).to.deep.equal({ status: 'ready', checks: { store: 'up', rabbitmq: 'up' } });
      const created = await fetch(`${url}/api/v1/integrations`, {
        method: 'POST',
        headers: { authorization: 'Bearer admin-token-main-0123456789', 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'main',
          apiHost: 'https://bb.example.test',
          userFacingHost: 'https://bb.example.test',
          username: 'bot',
          accessToken: 'BBDC-main-process-token-0123456789',
        }),
      });
      expect(created.status).to.equal(201);
    } finally {
      proc.child.kill('SIGTERM');
    }
    expect(await proc.exited).to.equal(0);
    expect(proc.stdout()).to.not.contain('BBDC-main-process-token-0123456789');
    expect(proc.stdout()).to.not.contain('admin-token-main-0123456789');
  });

  it('refuses to start with exit code 1, naming every bad variable', async () => {
    const proc = start({ MASTER_KEY: 'short', WEBHOOK_SECRET_GRACE_SECONDS: 'soon' });
    expect(await proc.exited).to.equal(1);
    for (const name of ['ADMIN_TOKEN', 'INTERNAL_TOKEN', 'MASTER_KEY', 'WEBHOOK_SECRET_GRACE_SECONDS']) {
      expect(proc.stderr()).to.contain(name);
    }
  });
});
