import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import Redis from 'ioredis';
import { createBus, topologyNames, type Bus } from '@stacklink/bus';
import { stackTriggerTopology } from '@stacklink/contracts';
import { startServer, type RunningServer } from '@stacklink/http';
import { createSilentLogger } from '@stacklink/logger';
import {
  answerProblems,
  checkOpenApiCompleteness,
  deleteNamespace,
  RABBITMQ_URL,
  REDIS_URL,
  uniqueNamespace,
  validateOpenApiDocument,
} from '@stacklink/testing';
import { createBusRedelivery } from '../../src/adapters/bus-redelivery';
import { createRedisRunQueue } from '../../src/adapters/redis-run-queue';
import { openSqliteStore } from '../../src/adapters/sqlite/sqlite-store';
import type { Store } from '../../src/adapters/store';
import { createApp } from '../../src/app';
import { stackInput } from '../support/events';
import { countingMetrics, recordingRunEvents } from '../support/fakes';

const ADMIN = 'admin-token-0123456789';
const RUNNER = 'runner-token-0123456789';
const INTERNAL = 'internal-token-0123456789';
const logger = createSilentLogger();

/**
 * `GET /api/v1/openapi.json` and `GET /internal/v1/openapi.json` of the stack-trigger API, with every
 * optional router mounted (delivery history, dead letters): each served route is in the document,
 * described by the joi schemas that validate it, and the document is valid OpenAPI 3.1.
 */
describe('stack-trigger API: OpenAPI descriptions', function () {
  this.timeout(15_000);
  let dir: string;
  let namespace: string;
  let redis: Redis;
  let store: Store;
  let bus: Bus;
  let app: ReturnType<typeof createApp>;
  let server: RunningServer;

  const get = async (path: string, token: string) => {
    const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stack-trigger-openapi-'));
    namespace = uniqueNamespace('openapi');
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    store = openSqliteStore(join(dir, 'store.db'));
    bus = createBus({ url: RABBITMQ_URL, logger, namespace, topology: stackTriggerTopology });
    await bus.start();
    app = createApp({
      adminToken: ADMIN,
      runnerTokens: [RUNNER],
      internalToken: INTERNAL,
      logger,
      stacks: store.stacks,
      runs: store.runs,
      queue: createRedisRunQueue({ redis, namespace, leaseSeconds: 60 }),
      integrations: { checkRepository: async () => 'ok' },
      runEvents: recordingRunEvents(),
      metrics: countingMetrics(),
      deadLetters: bus,
      deliveries: {
        history: store.deliveries,
        redelivery: createBusRedelivery(bus),
        newEventId: () => 'e-1',
      },
    });
    server = await startServer(app, { port: 0, logger });
  });

  after(async () => {
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

  for (const [prefix, token] of [
    ['/api/v1', ADMIN],
    ['/internal/v1', INTERNAL],
  ] as const) {
    it(`${prefix}/openapi.json documents every served route with the schemas that validate it`, async () => {
      const answer = await get(`${prefix}/openapi.json`, token);
      expect(answer.status).to.equal(200);
      expect(checkOpenApiCompleteness(app, answer.body, prefix)).to.deep.equal([]);
    });

    it(`${prefix}/openapi.json is a valid OpenAPI 3.1 document`, async () => {
      const answer = await get(`${prefix}/openapi.json`, token);
      expect(await validateOpenApiDocument(answer.body)).to.deep.equal([]);
    });
  }

  it('documents who may call what: a runner reports state, only the admin reads the document', async () => {
    const { body } = await get('/api/v1/openapi.json', ADMIN);
    const paths = body.paths as Record<string, Record<string, { security: object[] }>>;
    expect(paths['/api/v1/runs/{id}/state']!.post!.security).to.deep.equal([
      { adminToken: [] },
      { runnerToken: [] },
    ]);
    expect(paths['/api/v1/stacks']!.post!.security).to.deep.equal([{ adminToken: [] }]);
    expect(Object.keys(paths)).to.include.members(['/api/v1/deliveries', '/api/v1/stacks/{id}/runs']);
    expect((await get('/api/v1/openapi.json', RUNNER)).status).to.equal(403);
    expect((await get('/internal/v1/openapi.json', ADMIN)).status).to.equal(401);
  });

  it('the answers the API really gives fit the document, errors included', async () => {
    const doc = (await get('/api/v1/openapi.json', ADMIN)).body;
    const internalDoc = (await get('/internal/v1/openapi.json', INTERNAL)).body;
    const problems: string[] = [];
    const call = async (
      method: string,
      path: string,
      documented: string,
      options: { token?: string; body?: unknown; of?: Record<string, unknown> } = {},
    ) => {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${options.token ?? ADMIN}`,
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      });
      const body = (await res.json()) as Record<string, unknown>;
      problems.push(
        ...answerProblems(options.of ?? doc, { method, path: documented, status: res.status }, body),
      );
      return body;
    };
    const stack = await call('POST', '/api/v1/stacks', '/api/v1/stacks', { body: stackInput() });
    const id = String(stack.id);
    await call('GET', '/api/v1/stacks', '/api/v1/stacks');
    await call('GET', `/api/v1/stacks/${id}`, '/api/v1/stacks/{id}');
    await call('PATCH', `/api/v1/stacks/${id}`, '/api/v1/stacks/{id}', { body: { labels: ['a'] } });
    const run = await call('POST', `/api/v1/stacks/${id}/runs`, '/api/v1/stacks/{id}/runs', {
      body: { commit: 'b'.repeat(40) },
    });
    await call('GET', `/api/v1/stacks/${id}/runs`, '/api/v1/stacks/{id}/runs');
    await call('GET', `/api/v1/runs/${String(run.id)}`, '/api/v1/runs/{id}');
    await call('POST', `/api/v1/runs/${String(run.id)}/state`, '/api/v1/runs/{id}/state', {
      token: RUNNER,
      body: { state: 'RUNNING' },
    });
    await call('GET', '/api/v1/deliveries', '/api/v1/deliveries');
    await call('GET', '/api/v1/stacks/nope', '/api/v1/stacks/{id}');
    await call('POST', '/api/v1/stacks', '/api/v1/stacks', { body: { name: 'x' } });
    await call('GET', '/internal/v1/stacks?integrationId=i-1', '/internal/v1/stacks', {
      token: INTERNAL,
      of: internalDoc,
    });
    await call('GET', '/internal/v1/queues', '/internal/v1/queues', { token: INTERNAL, of: internalDoc });
    await call('GET', '/internal/v1/dead-letters?queue=runs.ready', '/internal/v1/dead-letters', {
      token: INTERNAL,
      of: internalDoc,
    });
    expect(problems).to.deep.equal([]);
  });

  it('GET /internal/v1/queues answers each work queue with its consumers and parked messages', async () => {
    const answer = await get('/internal/v1/queues', INTERNAL);
    expect(answer.status).to.equal(200);
    const queues = answer.body.queues as {
      queue: string;
      messages: number;
      consumers: number;
      deadLetters: number;
    }[];
    expect(queues.map((q) => q.queue)).to.include.members([
      'stack-trigger.vcs-events',
      'stack-trigger.status-updates',
    ]);
    for (const q of queues) expect(q).to.include({ messages: 0, consumers: 0, deadLetters: 0 });
    expect((await get('/internal/v1/queues', ADMIN)).status).to.equal(401);
  });
});
