import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import Redis from 'ioredis';
import { stacksAnswerSchema } from '@stacklink/contracts';
import { startServer, type RunningServer } from '@stacklink/http';
import { createSilentLogger } from '@stacklink/logger';
import { deleteNamespace, REDIS_URL, uniqueNamespace } from '@stacklink/testing';
import { createHttpIntegrations } from '../../src/adapters/http-integrations';
import { createRedisRunQueue } from '../../src/adapters/redis-run-queue';
import { openSqliteStore } from '../../src/adapters/sqlite/sqlite-store';
import type { Store } from '../../src/adapters/store';
import { createApp } from '../../src/app';
import { countingMetrics, recordingRunEvents } from '../support/fakes';

const ADMIN = 'admin-token-0123456789';
const INTERNAL = 'internal-token-0123456789';
const logger = createSilentLogger();

/** The JSON answers these tests read; fields absent from an answer are simply undefined. */
interface Answer {
  id: string;
  branch: string;
  error: { code: string; message: string; details: { fields: { field: string }[] } };
  stacks: { id: string }[];
  runs: unknown[];
  [field: string]: unknown;
}

/**
 * A small stand-in for our own integration service's internal contract (docs/architecture.md §4) and for the
 * one Bitbucket resource the check reads, until the integration service and the simulator land.
 */
async function startFakeIntegrationAndBitbucket(): Promise<{
  url: string;
  close: () => Promise<void>;
  calls: string[];
}> {
  const calls: string[] = [];
  let base = '';
  const server: Server = createServer((req, res) => {
    calls.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (
      req.url === '/internal/v1/integrations/int-1/credentials' &&
      req.headers.authorization === `Bearer ${INTERNAL}`
    ) {
      return send(200, { apiHost: `${base}/bitbucket`, username: 'bot', accessToken: 'bb-token', tls: {} });
    }
    if (req.url?.startsWith('/internal/v1/integrations/'))
      return send(404, { error: { code: 'INTEGRATION.NOT_FOUND', message: 'no' } });
    if (
      req.url === '/bitbucket/rest/api/1.0/projects/PRJ/repos/infra' &&
      req.headers.authorization === 'Bearer bb-token'
    ) {
      return send(200, { slug: 'infra', id: 1, name: 'infra', project: { key: 'PRJ' } });
    }
    if (req.url === '/bitbucket/rest/api/1.0/projects/PRJ/repos/hidden') return send(403, { errors: [] });
    return send(404, { errors: [{ message: 'Repository does not exist' }] });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url: base, calls, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('stack-trigger API', () => {
  let dir: string;
  let namespace: string;
  let redis: Redis;
  let store: Store;
  let server: RunningServer;
  let fake: Awaited<ReturnType<typeof startFakeIntegrationAndBitbucket>>;
  let runEvents: ReturnType<typeof recordingRunEvents>;

  const call = async (method: string, path: string, body?: unknown, token: string | null = ADMIN) => {
    const headers: Record<string, string> = {};
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Answer };
  };
  const validStack = (overrides: Record<string, unknown> = {}) => ({
    name: 'prod',
    integrationId: 'int-1',
    repository: { projectKey: 'PRJ', slug: 'infra' },
    branch: 'main',
    projectRoot: 'infra/prod',
    ...overrides,
  });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stack-trigger-api-'));
    namespace = uniqueNamespace('api');
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    store = openSqliteStore(join(dir, 'store.db'));
    fake = await startFakeIntegrationAndBitbucket();
    runEvents = recordingRunEvents();
    const app = createApp({
      adminToken: ADMIN,
      internalToken: INTERNAL,
      logger,
      stacks: store.stacks,
      runs: store.runs,
      queue: createRedisRunQueue({ redis, namespace, leaseSeconds: 60 }),
      integrations: createHttpIntegrations({ integrationUrl: fake.url, internalToken: INTERNAL, logger }),
      runEvents,
      metrics: countingMetrics(),
    });
    server = await startServer(app, { port: 0, logger });
  });
  afterEach(async () => {
    await server.close();
    await fake.close();
    await deleteNamespace({ namespace, redisUrl: REDIS_URL });
    redis.disconnect();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const endpoints: [string, string][] = [
    ['POST', '/api/v1/stacks'],
    ['GET', '/api/v1/stacks'],
    ['GET', '/api/v1/stacks/x'],
    ['PATCH', '/api/v1/stacks/x'],
    ['DELETE', '/api/v1/stacks/x'],
    ['GET', '/api/v1/stacks/x/runs'],
    ['POST', '/api/v1/stacks/x/runs'],
    ['GET', '/api/v1/runs/x'],
    ['POST', '/api/v1/runs/x/state'],
    ['GET', '/internal/v1/stacks?integrationId=int-1'],
  ];
  for (const [method, path] of endpoints) {
    it(`answers 401 to ${method} ${path.split('?')[0]} without a token or with a wrong one`, async () => {
      const body = method === 'POST' || method === 'PATCH' ? {} : undefined;
      expect((await call(method, path, body, null)).status).to.equal(401);
      expect((await call(method, path, body, 'wrong-token-0123456789')).status).to.equal(401);
    });
  }

  it('refuses the admin token on the internal API and the internal token on the public API', async () => {
    expect((await call('GET', '/internal/v1/stacks?integrationId=int-1', undefined, ADMIN)).status).to.equal(
      401,
    );
    expect((await call('GET', '/api/v1/stacks', undefined, INTERNAL)).status).to.equal(401);
  });

  it('creates a stack after checking the integration and the repository, with defaults', async () => {
    const res = await call('POST', '/api/v1/stacks', validStack());
    expect(res.status).to.equal(201);
    expect(res.body).to.include({
      name: 'prod',
      branch: 'main',
      projectRoot: 'infra/prod',
      triggerOnTags: false,
      allowForks: false,
    });
    expect(res.body.additionalProjectGlobs).to.deep.equal([]);
    expect(
      fake.calls.some(
        (c) =>
          c.startsWith('GET /internal/v1/integrations/int-1/credentials') && c.endsWith(`Bearer ${INTERNAL}`),
      ),
    ).to.be.true;
    expect((await call('GET', `/api/v1/stacks/${res.body.id}`)).body).to.deep.equal(res.body);
  });

  for (const [field, body] of [
    ['name', validStack({ name: undefined })],
    ['branch', validStack({ branch: 'has space' })],
    ['repository.slug', validStack({ repository: { projectKey: 'PRJ' } })],
    ['additionalProjectGlobs.0', validStack({ additionalProjectGlobs: [42] })],
    ['triggerOnTags', validStack({ triggerOnTags: 'yes' })],
  ] as const) {
    it(`answers 400 naming ${field} when it is invalid, and stores nothing`, async () => {
      const res = await call('POST', '/api/v1/stacks', body);
      expect(res.status).to.equal(400);
      expect(res.body.error.details.fields.map((f: { field: string }) => f.field)).to.include(field);
      expect(await store.stacks.list()).to.be.empty;
    });
  }

  it('names the body, not "value", when the body itself is missing or empty', async () => {
    const missing = await call('POST', '/api/v1/stacks');
    expect(missing.status).to.equal(400);
    expect(missing.body.error.message).to.equal('"body" is required');
    const created = await call('POST', '/api/v1/stacks', validStack());
    const empty = await call('PATCH', `/api/v1/stacks/${created.body.id}`, {});
    expect(empty.status).to.equal(400);
    expect(empty.body.error.message).to.equal('"body" must have at least 1 key');
  });

  it('answers 400 naming integrationId when the integration does not exist, and stores nothing', async () => {
    const res = await call('POST', '/api/v1/stacks', validStack({ integrationId: 'int-404' }));
    expect(res.status).to.equal(400);
    expect(res.body.error.code).to.equal('STACK.INTEGRATION_NOT_FOUND');
    expect(res.body.error.details.fields[0]!.field).to.equal('integrationId');
    expect(await store.stacks.list()).to.be.empty;
  });

  it('answers 400 naming repository when Bitbucket says it does not exist, and stores nothing', async () => {
    const res = await call(
      'POST',
      '/api/v1/stacks',
      validStack({ repository: { projectKey: 'PRJ', slug: 'gone' } }),
    );
    expect(res.status).to.equal(400);
    expect(res.body.error.details.fields[0]!.field).to.equal('repository');
    expect(await store.stacks.list()).to.be.empty;
  });

  it('accepts a repository the token cannot see', async () => {
    const res = await call(
      'POST',
      '/api/v1/stacks',
      validStack({ repository: { projectKey: 'PRJ', slug: 'hidden' } }),
    );
    expect(res.status).to.equal(201);
  });

  it('answers 409 to a second stack with the same name', async () => {
    await call('POST', '/api/v1/stacks', validStack());
    const res = await call('POST', '/api/v1/stacks', validStack());
    expect(res.status).to.equal(409);
    expect(await store.stacks.list()).to.have.length(1);
  });

  it('lists, updates and deletes stacks', async () => {
    const { body: created } = await call('POST', '/api/v1/stacks', validStack());
    expect((await call('GET', '/api/v1/stacks')).body.stacks).to.have.length(1);
    const patched = await call('PATCH', `/api/v1/stacks/${created.id}`, {
      branch: 'develop',
      labels: ['team:a'],
    });
    expect(patched.status).to.equal(200);
    expect(patched.body).to.include({ branch: 'develop', name: 'prod' });
    expect((await call('PATCH', `/api/v1/stacks/${created.id}`, { branch: 1 })).status).to.equal(400);
    expect((await call('PATCH', `/api/v1/stacks/${created.id}`, {})).status).to.equal(400);
    expect((await call('GET', `/api/v1/stacks/${created.id}`)).body.branch).to.equal('develop');
    expect((await call('DELETE', `/api/v1/stacks/${created.id}`)).status).to.equal(204);
    expect((await call('GET', `/api/v1/stacks/${created.id}`)).status).to.equal(404);
    expect((await call('DELETE', `/api/v1/stacks/${created.id}`)).status).to.equal(404);
  });

  it('lists the stacks of an integration on the internal API', async () => {
    const { body: created } = await call('POST', '/api/v1/stacks', validStack());
    const res = await call('GET', '/internal/v1/stacks?integrationId=int-1', undefined, INTERNAL);
    expect(res.status).to.equal(200);
    // What the integration service reads (@stacklink/contracts); the rest of each stack rides along.
    expect(stacksAnswerSchema.validate(res.body, { allowUnknown: true, convert: false }).error).to.equal(
      undefined,
    );
    expect(res.body.stacks.map((s: { id: string }) => s.id)).to.deep.equal([created.id]);
    expect((await call('GET', '/internal/v1/stacks?integrationId=int-2', undefined, INTERNAL)).body.stacks).to
      .be.empty;
    const missing = await call('GET', '/internal/v1/stacks', undefined, INTERNAL);
    expect(missing.status).to.equal(400);
    expect(missing.body.error.details.fields[0]!.field).to.equal('integrationId');
  });

  it('triggers a manual run once per commit and type, and lists it', async () => {
    const { body: s } = await call('POST', '/api/v1/stacks', validStack());
    const commit = 'ab'.repeat(20);
    const first = await call('POST', `/api/v1/stacks/${s.id}/runs`, { commit });
    expect(first.status).to.equal(201);
    expect(first.body).to.include({ type: 'tracked', state: 'QUEUED', ref: 'refs/heads/main', commit });
    expect((first.body.trigger as { kind: string }).kind).to.equal('manual');
    const again = await call('POST', `/api/v1/stacks/${s.id}/runs`, { commit });
    expect(again.status).to.equal(200);
    expect(again.body.id).to.equal(first.body.id);
    expect((await call('GET', `/api/v1/stacks/${s.id}/runs`)).body.runs).to.have.length(1);
    // The run as created, with what triggered it and its stack spelled out (docs/architecture.md §4).
    expect((await call('GET', `/api/v1/runs/${first.body.id}`)).body).to.deep.equal({
      ...first.body,
      trigger: { kind: 'manual', commit, branch: 'main' },
      stack: { id: s.id, name: s.name, repository: s.repository },
      links: {},
    });
    // Handed out by the first request; the repeated one announces that same run again (an API that
    // died between the dispatch and run.ready is completed by the retried request), nothing else.
    expect(runEvents.ready.map((r) => r.id)).to.deep.equal([first.body.id, first.body.id]);
    const bad = await call('POST', `/api/v1/stacks/${s.id}/runs`, { commit: 'xyz' });
    expect(bad.status).to.equal(400);
    expect(bad.body.error.details.fields[0]!.field).to.equal('commit');
    expect((await call('POST', '/api/v1/stacks/nope/runs', { commit })).status).to.equal(404);
  });

  it('moves a run through legal states, version by version, and hands out the next tracked run', async () => {
    const { body: s } = await call('POST', '/api/v1/stacks', validStack());
    const { body: a } = await call('POST', `/api/v1/stacks/${s.id}/runs`, { commit: 'a'.repeat(40) });
    const { body: b } = await call('POST', `/api/v1/stacks/${s.id}/runs`, { commit: 'b'.repeat(40) });
    expect(runEvents.ready.map((r) => r.id)).to.deep.equal([a.id]);
    const running = await call('POST', `/api/v1/runs/${a.id}/state`, { state: 'RUNNING' });
    expect(running.body).to.include({ state: 'RUNNING', version: 2 });
    const finished = await call('POST', `/api/v1/runs/${a.id}/state`, { state: 'FINISHED', note: 'applied' });
    expect(finished.body).to.include({ state: 'FINISHED', version: 3, note: 'applied' });
    expect(runEvents.ready.map((r) => r.id)).to.deep.equal([a.id, b.id]);
    expect(runEvents.stateChanged.filter((r) => r.id === a.id).map((r) => r.version)).to.deep.equal([
      1, 2, 3,
    ]);
  });

  for (const [from, to] of [
    ['QUEUED', 'FINISHED'],
    ['QUEUED', 'FAILED'],
    ['FINISHED', 'RUNNING'],
    ['CANCELED', 'RUNNING'],
    ['RUNNING', 'RUNNING'],
  ] as const) {
    it(`answers 409 to ${from} → ${to} and changes nothing`, async () => {
      const { body: s } = await call('POST', '/api/v1/stacks', validStack());
      const { body: run } = await call('POST', `/api/v1/stacks/${s.id}/runs`, { commit: 'c'.repeat(40) });
      const path = `/api/v1/runs/${run.id}/state`;
      if (from === 'FINISHED' || from === 'RUNNING') await call('POST', path, { state: 'RUNNING' });
      if (from === 'FINISHED') await call('POST', path, { state: 'FINISHED' });
      if (from === 'CANCELED') await call('POST', path, { state: 'CANCELED' });
      const before = (await call('GET', `/api/v1/runs/${run.id}`)).body;
      const res = await call('POST', path, { state: to });
      expect(res.status).to.equal(409);
      expect(res.body.error.code).to.equal('RUN.ILLEGAL_TRANSITION');
      expect((await call('GET', `/api/v1/runs/${run.id}`)).body).to.deep.equal(before);
    });
  }

  it('keeps the summary a runner sends with the final state, shows it on the run and announces it', async () => {
    const { body: s } = await call('POST', '/api/v1/stacks', validStack());
    const { body: run } = await call('POST', `/api/v1/stacks/${s.id}/runs`, { commit: 'd'.repeat(40) });
    await call('POST', `/api/v1/runs/${run.id}/state`, { state: 'RUNNING' });
    const summary = {
      add: 1,
      change: 0,
      destroy: 2,
      summary: 'Plan: 1 to add, 0 to change, 2 to destroy.',
      annotations: [{ path: 'infra/main.tf', line: 7, severity: 'HIGH', message: 'public bucket' }],
    };
    const done = await call('POST', `/api/v1/runs/${run.id}/state`, { state: 'FAILED', summary });
    expect(done.status).to.equal(200);
    const shown = (await call('GET', `/api/v1/runs/${run.id}`)).body;
    expect(shown.summary).to.deep.equal(summary);
    expect(shown.startedAt).to.be.a('string');
    const announced = runEvents.stateChanged.filter((r) => r.id === run.id).at(-1);
    expect(announced?.summary).to.deep.equal(summary);
  });

  for (const [what, body, field] of [
    ['a summary with RUNNING', { state: 'RUNNING', summary: { add: 1 } }, 'summary'],
    [
      'an annotation of unknown severity',
      { state: 'FINISHED', summary: { annotations: [{ path: 'a.tf', severity: 'URGENT', message: 'm' }] } },
      'summary.annotations.0.severity',
    ],
    ['a negative count', { state: 'FINISHED', summary: { destroy: -1 } }, 'summary.destroy'],
    [
      'more than 1,000 annotations',
      {
        state: 'FINISHED',
        summary: {
          annotations: Array.from({ length: 1001 }, () => ({ path: 'a.tf', severity: 'LOW', message: 'm' })),
        },
      },
      'summary.annotations',
    ],
  ] as const) {
    it(`answers 400 naming ${field} for ${what}, and changes nothing`, async () => {
      const { body: s } = await call('POST', '/api/v1/stacks', validStack());
      const { body: run } = await call('POST', `/api/v1/stacks/${s.id}/runs`, { commit: 'e'.repeat(40) });
      if (body.state !== 'RUNNING') await call('POST', `/api/v1/runs/${run.id}/state`, { state: 'RUNNING' });
      const before = (await call('GET', `/api/v1/runs/${run.id}`)).body;
      const res = await call('POST', `/api/v1/runs/${run.id}/state`, body);
      expect(res.status).to.equal(400);
      expect(res.body.error.details.fields[0]!.field).to.equal(field);
      expect((await call('GET', `/api/v1/runs/${run.id}`)).body).to.deep.equal(before);
    });
  }

  it('shows each stack with the build key to require in Bitbucket and its report key', async () => {
    const { body: s } = await call('POST', '/api/v1/stacks', validStack());
    const keys = { buildKey: `stacklink/${s.id}`, reportKey: `stacklink-${s.id}` };
    expect(s.bitbucket).to.deep.equal(keys);
    expect((await call('GET', `/api/v1/stacks/${s.id}`)).body.bitbucket).to.deep.equal(keys);
  });

  it('answers 400 naming state for an unknown state, and 404 for an unknown run', async () => {
    const res = await call('POST', '/api/v1/runs/x/state', { state: 'DONE' });
    expect(res.status).to.equal(400);
    expect(res.body.error.details.fields[0]!.field).to.equal('state');
    expect((await call('POST', '/api/v1/runs/x/state', { state: 'RUNNING' })).status).to.equal(404);
    expect((await call('GET', '/api/v1/runs/x')).status).to.equal(404);
  });
});
