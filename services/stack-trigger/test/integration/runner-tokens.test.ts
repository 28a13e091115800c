import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import Redis from 'ioredis';
import { startServer, type RunningServer } from '@stacklink/http';
import { createSilentLogger } from '@stacklink/logger';
import { deleteNamespace, REDIS_URL, uniqueNamespace } from '@stacklink/testing';
import { createRedisRunQueue } from '../../src/adapters/redis-run-queue';
import { openSqliteStore } from '../../src/adapters/sqlite/sqlite-store';
import type { Store } from '../../src/adapters/store';
import { createApp } from '../../src/app';
import type { RunQueuePort } from '../../src/domain/ports';
import { countingMetrics, recordingRunEvents } from '../support/fakes';
import { stackInput } from '../support/events';

const ADMIN = 'admin-token-0123456789';
const INTERNAL = 'internal-token-0123456789';
const RUNNER = 'runner-token-0123456789abcdef-0123456';
const OTHER_RUNNER = 'runner-token-second-0123456789abcdef';
const logger = createSilentLogger();

describe('runner tokens on the stack-trigger API (docs/architecture.md §12)', function () {
  this.timeout(15_000);
  let dir: string;
  let namespace: string;
  let redis: Redis;
  let store: Store;
  let queue: RunQueuePort;
  let server: RunningServer;

  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as { error?: { code: string }; state?: string } };
  };

  async function handedOutRun() {
    const stack = await store.stacks.create(stackInput({ projectRoot: '' }));
    const { run } = await store.runs.create({
      stackId: stack.id,
      type: 'tracked',
      commit: 'a'.repeat(40),
      ref: 'refs/heads/main',
      trigger: { kind: 'manual' },
    });
    await queue.enqueue(run);
    await queue.dispatch(stack.id);
    return { stack, run };
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stack-trigger-runner-tokens-'));
    namespace = uniqueNamespace('runner-tokens');
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    store = openSqliteStore(join(dir, 'store.db'));
    queue = createRedisRunQueue({ redis, namespace, leaseSeconds: 60 });
    const app = createApp({
      adminToken: ADMIN,
      runnerTokens: [RUNNER, OTHER_RUNNER],
      internalToken: INTERNAL,
      logger,
      stacks: store.stacks,
      runs: store.runs,
      queue,
      integrations: { checkRepository: async () => 'ok' },
      runEvents: recordingRunEvents(),
      metrics: countingMetrics(),
    });
    server = await startServer(app, { port: 0, logger });
  });

  afterEach(async () => {
    await server.close();
    await store.close();
    redis.disconnect();
    await deleteNamespace({ namespace, redisUrl: REDIS_URL });
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets a runner token report a run’s state and renew its lease', async () => {
    const { run } = await handedOutRun();

    expect((await call('POST', `/api/v1/runs/${run.id}/lease`, OTHER_RUNNER)).status).to.equal(200);
    const running = await call('POST', `/api/v1/runs/${run.id}/state`, RUNNER, { state: 'RUNNING' });

    expect(running.status).to.equal(200);
    expect(running.body.state).to.equal('RUNNING');
    expect((await store.runs.get(run.id))?.state).to.equal('RUNNING');
  });

  it('answers a runner token 403 AUTH.FORBIDDEN on every other route, and changes nothing', async () => {
    const { stack, run } = await handedOutRun();
    const before = { stacks: await store.stacks.list(), runs: await store.runs.listByStack(stack.id) };

    const attempts = [
      await call('POST', '/api/v1/stacks', RUNNER, stackInput({ name: 'sneaky' })),
      await call('GET', '/api/v1/stacks', RUNNER),
      await call('GET', `/api/v1/stacks/${stack.id}`, RUNNER),
      await call('PATCH', `/api/v1/stacks/${stack.id}`, RUNNER, { branch: 'evil' }),
      await call('DELETE', `/api/v1/stacks/${stack.id}`, RUNNER),
      await call('POST', `/api/v1/stacks/${stack.id}/runs`, RUNNER, {}),
      await call('GET', `/api/v1/runs/${run.id}`, RUNNER),
    ];

    expect(attempts.map((a) => [a.status, a.body.error?.code])).to.deep.equal(
      attempts.map(() => [403, 'AUTH.FORBIDDEN']),
    );
    expect(await store.stacks.list()).to.deep.equal(before.stacks);
    expect(await store.runs.listByStack(stack.id)).to.deep.equal(before.runs);
  });

  it('does not let a runner token into the internal API, nor an unknown token anywhere', async () => {
    const { run } = await handedOutRun();
    expect((await call('GET', '/internal/v1/stacks?integrationId=i-1', RUNNER)).status).to.equal(401);
    const unknown = await call('POST', `/api/v1/runs/${run.id}/state`, `${RUNNER}-not`, { state: 'RUNNING' });
    expect([unknown.status, unknown.body.error?.code]).to.deep.equal([401, 'AUTH.UNAUTHORIZED']);
    expect((await store.runs.get(run.id))?.state).to.equal('QUEUED');
  });

  it('keeps ADMIN_TOKEN working on the runner routes and everywhere else', async () => {
    const { run } = await handedOutRun();
    expect((await call('POST', `/api/v1/runs/${run.id}/lease`, ADMIN)).status).to.equal(200);
    expect((await call('POST', `/api/v1/runs/${run.id}/state`, ADMIN, { state: 'RUNNING' })).status).to.equal(
      200,
    );
    expect((await call('GET', `/api/v1/runs/${run.id}`, ADMIN)).status).to.equal(200);
    expect((await call('GET', '/api/v1/stacks', ADMIN)).status).to.equal(200);
  });
});
