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
import type { CanonicalEvent } from '../../src/domain/canonical-event';
import { buildDeliveryDecision } from '../../src/domain/record-decision';
import { pushEvent, stackInput } from '../support/events';
import { countingMetrics, recordingRunEvents } from '../support/fakes';

const ADMIN = 'admin-token-0123456789';
const logger = createSilentLogger();

interface Answer {
  error?: { code: string; message: string; details?: { fields: { field: string }[] } };
  deliveries?: { deliveryId: string; outcome: string }[];
  nextCursor?: string;
  [field: string]: unknown;
}

/** `/api/v1/deliveries` (docs/architecture.md §13) in-process over the SQLite store, on port 0. */
describe('stack-trigger API: delivery history', () => {
  let dir: string;
  let namespace: string;
  let redis: Redis;
  let store: Store;
  let server: RunningServer;
  let redelivered: { event: CanonicalEvent; originalEventId: string }[];

  const call = async (method: string, path: string, token: string | null = ADMIN) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Answer };
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stack-trigger-deliveries-'));
    namespace = uniqueNamespace('deliveries');
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    store = openSqliteStore(join(dir, 'store.db'));
    redelivered = [];
    let n = 0;
    const app = createApp({
      adminToken: ADMIN,
      internalToken: 'internal-token-0123456789',
      logger,
      stacks: store.stacks,
      runs: store.runs,
      queue: createRedisRunQueue({ redis, namespace, leaseSeconds: 60 }),
      integrations: { checkRepository: async () => 'ok' },
      runEvents: recordingRunEvents(),
      metrics: countingMetrics(),
      deliveries: {
        history: store.deliveries,
        redelivery: {
          redeliver: async (event, originalEventId) => {
            redelivered.push({ event, originalEventId });
          },
        },
        newEventId: () => `redelivery-${++n}`,
      },
    });
    server = await startServer(app, { port: 0, logger });
  });
  afterEach(async () => {
    await server.close();
    await deleteNamespace({ namespace, redisUrl: REDIS_URL });
    redis.disconnect();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function seedAcceptedPush(): Promise<{ eventId: string; runId: string; stackId: string }> {
    const stack = await store.stacks.create(stackInput());
    const event = { ...pushEvent(), id: 'event-1', deliveryId: 'delivery-1', integrationId: 'int-1' };
    const { run } = await store.runs.create({
      stackId: stack.id,
      type: 'tracked',
      commit: 'a'.repeat(40),
      ref: 'refs/heads/main',
      trigger: { kind: 'push', eventId: event.id, deliveryId: event.deliveryId },
    });
    const decision = buildDeliveryDecision(
      event,
      {
        created: [run],
        existing: [],
        canceled: [],
        retried: [],
        overCap: [],
        skipped: [{ stackId: 'gone', reason: 'files-untouched', detail: 'no file under x changed' }],
      },
      { decidedAt: new Date() },
    );
    await store.deliveries.saveDecision(decision);
    return { eventId: event.id, runId: run.id, stackId: stack.id };
  }

  for (const [method, path] of [
    ['GET', '/api/v1/deliveries'],
    ['GET', '/api/v1/deliveries/x'],
    ['POST', '/api/v1/deliveries/x/redeliver'],
  ] as const) {
    it(`answers 401 to ${method} ${path} without the admin token`, async () => {
      expect((await call(method, path, null)).status).to.equal(401);
      expect((await call(method, path, 'wrong-token-0123456789')).status).to.equal(401);
    });
  }

  const badQueries: [string, string][] = [
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    ['limit=ten', 'limit'],
    ['outcome=exploded', 'outcome'],
    ['since=yesterday', 'since'],
    ['projectKey=P%20K', 'projectKey'],
    ['slug=a/b', 'slug'],
    ['cursor=not-a-cursor', 'cursor'],
    [`cursor=${Buffer.from('["x","y"]').toString('base64url')}`, 'cursor'],
    ['colour=blue', 'colour'],
    ['integrationId=a&integrationId=b', 'integrationId'],
  ];
  for (const [query, field] of badQueries) {
    it(`answers 400 naming ${field} for ?${query}`, async () => {
      const { status, body } = await call('GET', `/api/v1/deliveries?${query}`);
      expect(status).to.equal(400);
      expect(body.error?.code).to.equal('VALIDATION.FAILED');
      expect(body.error?.details?.fields.map((f) => f.field)).to.include(field);
    });
  }

  it('lists deliveries newest first and pages through them with the cursor it gives out', async () => {
    await store.deliveries.saveRecords(
      Array.from({ length: 5 }, (_, i) => ({
        deliveryId: `d-${i}`,
        integrationId: 'int-1',
        eventKey: 'repo:refs_changed',
        receivedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
        status: 401,
        outcome: 'invalid_signature' as const,
      })),
    );
    const first = await call('GET', '/api/v1/deliveries?limit=2&outcome=invalid_signature');
    expect(first.status).to.equal(200);
    expect(first.body.deliveries?.map((d) => d.deliveryId)).to.deep.equal(['d-4', 'd-3']);
    const second = await call('GET', `/api/v1/deliveries?limit=2&cursor=${first.body.nextCursor}`);
    const third = await call('GET', `/api/v1/deliveries?limit=2&cursor=${second.body.nextCursor}`);
    expect(second.body.deliveries?.map((d) => d.deliveryId)).to.deep.equal(['d-2', 'd-1']);
    expect(third.body.deliveries?.map((d) => d.deliveryId)).to.deep.equal(['d-0']);
    expect(third.body.nextCursor).to.equal(undefined);
  });

  it('shows a delivery with its record, event summary, decision per stack and runs', async () => {
    const { eventId, runId, stackId } = await seedAcceptedPush();
    const { status, body } = await call('GET', '/api/v1/deliveries/delivery-1');
    expect(status).to.equal(200);
    expect(body).to.deep.include({ deliveryId: 'delivery-1' });
    expect((body.records as { outcome: string }[]).map((r) => r.outcome)).to.deep.equal(['accepted']);
    expect(body.event).to.include({ id: eventId, type: 'push' });
    const [decision] = body.decisions as { stacks: unknown[]; event?: unknown }[];
    expect(decision!.event, 'the stored event stays inside').to.equal(undefined);
    expect(decision!.stacks).to.deep.equal([
      { stackId, stackName: 'prod', outcome: 'run-created', runId },
      { stackId: 'gone', outcome: 'skipped', reason: 'files-untouched', detail: 'no file under x changed' },
    ]);
    expect((body.runs as { id: string }[]).map((r) => r.id)).to.deep.equal([runId]);
  });

  it('answers 404 for a delivery it never saw', async () => {
    const { status, body } = await call('GET', '/api/v1/deliveries/nope');
    expect(status).to.equal(404);
    expect(body.error?.code).to.equal('DELIVERY.NOT_FOUND');
  });

  it('redelivers an accepted delivery under a new event id pointing at the original', async () => {
    const { eventId } = await seedAcceptedPush();
    const { status, body } = await call('POST', '/api/v1/deliveries/delivery-1/redeliver');
    expect(status).to.equal(202);
    expect(body).to.deep.equal({ eventId: 'redelivery-1', redeliveryOf: eventId });
    expect(redelivered.map((r) => [r.event.id, r.event.deliveryId, r.originalEventId])).to.deep.equal([
      ['redelivery-1', 'delivery-1', eventId],
    ]);
  });

  it('answers 409 and publishes nothing for a delivery that was never accepted', async () => {
    await store.deliveries.saveRecords([
      {
        deliveryId: 'forged',
        integrationId: 'int-1',
        eventKey: 'repo:refs_changed',
        receivedAt: new Date().toISOString(),
        status: 401,
        outcome: 'invalid_signature',
      },
    ]);
    const { status, body } = await call('POST', '/api/v1/deliveries/forged/redeliver');
    expect(status).to.equal(409);
    expect(body.error?.code).to.equal('DELIVERY.NOT_ACCEPTED');
    expect(redelivered).to.deep.equal([]);
  });

  it('answers 404 and publishes nothing when asked to redeliver an unknown delivery', async () => {
    const { status } = await call('POST', '/api/v1/deliveries/nope/redeliver');
    expect(status).to.equal(404);
    expect(redelivered).to.deep.equal([]);
  });
});
