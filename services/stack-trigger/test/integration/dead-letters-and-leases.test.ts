import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import Redis from 'ioredis';
import { createBus, topologyNames, type Bus, type ConsumerHandle } from '@stacklink/bus';
import { AppError } from '@stacklink/errors';
import { startServer, type RunningServer } from '@stacklink/http';
import { createSilentLogger } from '@stacklink/logger';
import { deleteNamespace, RABBITMQ_URL, REDIS_URL, uniqueNamespace, waitFor } from '@stacklink/testing';
import { createRedisRunQueue } from '../../src/adapters/redis-run-queue';
import { openSqliteStore } from '../../src/adapters/sqlite/sqlite-store';
import type { Store } from '../../src/adapters/store';
import { createApp } from '../../src/app';
import { runDeadLettersCommand } from '../../src/dead-letters';
import type { RunQueuePort } from '../../src/domain/ports';
import {
  RUN_STATE_CHANGED,
  RUNS_EXCHANGE,
  STATUS_UPDATES_QUEUE,
  stackTriggerTopology,
} from '@stacklink/contracts';
import { countingMetrics, recordingRunEvents } from '../support/fakes';
import { stackInput } from '../support/events';

const ADMIN = 'admin-token-0123456789';
const INTERNAL = 'internal-token-0123456789';
const logger = createSilentLogger();

describe('dead-letter tooling and run leases on the stack-trigger API', function () {
  this.timeout(15_000);
  let dir: string;
  let namespace: string;
  let redis: Redis;
  let store: Store;
  let bus: Bus;
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
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  /** Parks messages in stack-trigger.status-updates.dlq the way the bus does: a handler refusing them. */
  async function park(ids: string[]): Promise<void> {
    const refusing = await bus.consume(STATUS_UPDATES_QUEUE, async () => {
      throw new AppError('REPORTER.INVALID_MESSAGE', 'cannot be posted', { retryable: false });
    });
    for (const id of ids) await bus.publish(RUNS_EXCHANGE, RUN_STATE_CHANGED, { id }, { messageId: id });
    await waitFor(async () => (await bus.inspectDeadLetters(STATUS_UPDATES_QUEUE)).length === ids.length);
    await refusing.cancel();
  }

  /** What reaches the work queue again. */
  async function drain(): Promise<{ seen: string[]; handle: ConsumerHandle }> {
    const seen: string[] = [];
    const handle = await bus.consume(STATUS_UPDATES_QUEUE, async (msg) => {
      seen.push(msg.messageId ?? '');
    });
    return { seen, handle };
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stack-trigger-dlq-'));
    namespace = uniqueNamespace('dlq');
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    store = openSqliteStore(join(dir, 'store.db'));
    bus = createBus({ url: RABBITMQ_URL, logger, namespace, topology: stackTriggerTopology });
    await bus.start();
    queue = createRedisRunQueue({ redis, namespace, leaseSeconds: 60 });
    const app = createApp({
      adminToken: ADMIN,
      internalToken: INTERNAL,
      logger,
      stacks: store.stacks,
      runs: store.runs,
      queue,
      integrations: { checkRepository: async () => 'ok' },
      runEvents: recordingRunEvents(),
      metrics: countingMetrics(),
      deadLetters: bus,
    });
    server = await startServer(app, { port: 0, logger });
  });

  afterEach(async () => {
    await server.close();
    await bus.close();
    await store.close();
    redis.disconnect();
    await deleteNamespace({
      namespace,
      amqpUrl: RABBITMQ_URL,
      redisUrl: REDIS_URL,
      ...topologyNames(stackTriggerTopology),
    });
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists parked messages with their error and attempt count, for the internal token only', async () => {
    await park(['m-1', 'm-2']);

    const listed = await call('GET', `/internal/v1/dead-letters?queue=${STATUS_UPDATES_QUEUE}`, INTERNAL);

    expect(listed.status).to.equal(200);
    const messages = listed.body.messages as Record<string, unknown>[];
    expect(messages.map((m) => m.messageId)).to.have.members(['m-1', 'm-2']);
    expect(messages[0]).to.include({
      errorCode: 'REPORTER.INVALID_MESSAGE',
      errorMessage: 'cannot be posted',
      attempts: 1,
      routingKey: RUN_STATE_CHANGED,
    });
    expect(
      (await call('GET', `/internal/v1/dead-letters?queue=${STATUS_UPDATES_QUEUE}`, ADMIN)).status,
    ).to.equal(401);
  });

  it('refuses a queue that is not one of stack-trigger’s, naming the field', async () => {
    const answer = await call('GET', '/internal/v1/dead-letters?queue=somebody.else', INTERNAL);
    expect(answer.status).to.equal(400);
    expect(JSON.stringify(answer.body)).to.contain('queue');
  });

  it('replays only the chosen messages to the work queue', async () => {
    await park(['m-1', 'm-2']);

    const answer = await call('POST', '/internal/v1/dead-letters/replay', INTERNAL, {
      queue: STATUS_UPDATES_QUEUE,
      messageIds: ['m-2'],
    });

    expect(answer).to.deep.equal({ status: 200, body: { queue: STATUS_UPDATES_QUEUE, replayed: 1 } });
    const { seen, handle } = await drain();
    await waitFor(() => seen.includes('m-2'));
    await handle.cancel();
    expect(seen).to.deep.equal(['m-2']);
    expect((await bus.inspectDeadLetters(STATUS_UPDATES_QUEUE)).map((d) => d.messageId)).to.deep.equal([
      'm-1',
    ]);
  });

  it('the dead-letters command lists parked messages as JSON lines and replays them all', async () => {
    await park(['m-1', 'm-2']);
    const out: string[] = [];

    expect(
      await runDeadLettersCommand(['list', STATUS_UPDATES_QUEUE], { bus, out: (l) => out.push(l) }),
    ).to.equal(0);
    const listed = out.map(
      (line) => JSON.parse(line) as { messageId: string; errorCode: string; attempts: number },
    );
    expect(listed.map((m) => [m.messageId, m.errorCode, m.attempts])).to.have.deep.members([
      ['m-1', 'REPORTER.INVALID_MESSAGE', 1],
      ['m-2', 'REPORTER.INVALID_MESSAGE', 1],
    ]);

    out.length = 0;
    expect(
      await runDeadLettersCommand(['replay', STATUS_UPDATES_QUEUE], { bus, out: (l) => out.push(l) }),
    ).to.equal(0);
    expect(JSON.parse(out[0]!)).to.deep.equal({ queue: STATUS_UPDATES_QUEUE, replayed: 2 });
    const { seen, handle } = await drain();
    await waitFor(() => seen.length === 2);
    await handle.cancel();
    expect(seen).to.have.members(['m-1', 'm-2']);
  });

  it('the dead-letters command answers an unknown command or queue with its usage and exit code 2', async () => {
    const out: string[] = [];
    expect(
      await runDeadLettersCommand(['purge', STATUS_UPDATES_QUEUE], { bus, out: (l) => out.push(l) }),
    ).to.equal(2);
    expect(await runDeadLettersCommand(['list', 'other.queue'], { bus, out: (l) => out.push(l) })).to.equal(
      2,
    );
    expect(out[0]).to.match(/^usage:/);
  });

  describe('POST /api/v1/runs/{id}/lease', () => {
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
      return { stack, run };
    }

    it('renews the lease of a handed-out run', async () => {
      const { stack, run } = await handedOutRun();
      await queue.dispatch(stack.id);

      const answer = await call('POST', `/api/v1/runs/${run.id}/lease`, ADMIN);

      expect(answer).to.deep.equal({
        status: 200,
        body: { id: run.id, state: 'QUEUED', version: run.version },
      });
    });

    it('answers 409 for a run that is not handed out or already finished, and 404 for no run', async () => {
      const { stack, run } = await handedOutRun();
      expect((await call('POST', `/api/v1/runs/${run.id}/lease`, ADMIN)).body).to.nested.include({
        'error.code': 'RUN.NO_LEASE',
      });
      await queue.dispatch(stack.id);
      await store.runs.transition(run.id, ['QUEUED'], 'CANCELED');

      const finished = await call('POST', `/api/v1/runs/${run.id}/lease`, ADMIN);

      expect(finished.status).to.equal(409);
      expect(finished.body).to.nested.include({ 'error.code': 'RUN.NOT_ACTIVE' });
      expect((await call('POST', '/api/v1/runs/no-such-run/lease', ADMIN)).status).to.equal(404);
    });
  });
});
