'use strict';
// Trigger worker throughput (issue: stack-trigger trigger role): canonical push events through ONE
// trigger worker process, 10 stacks on the repository, each event touching one of them (one run per
// event, changed files asked of the Bitbucket simulator), beside the raw consume rate of the same kind
// of queue measured in the same run: a plain amqplib consumer acking as many messages of the same size.
// Interleaved rounds, medians.
const { randomBytes, randomUUID } = require('node:crypto');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');
const amqp = require('amqplib');
const { startSimulator } = require('@stacklink/bitbucket-simulator');
const { topologyNames } = require('@stacklink/bus');
const { stackTriggerTopology } = require('@stacklink/contracts');
const { toBusMessage } = require('@stacklink/events');
const { deleteNamespace, RABBITMQ_URL, REDIS_URL } = require('@stacklink/testing');
const { cpuSeconds, freePort, median, startNode } = require('../lib/processes');
const { createIntegration, startIntegrationProcess } = require('../lib/integration');
const { createBenchStacks } = require('../lib/stacks');

const ROOT = path.resolve(__dirname, '../..');
const EVENTS = Number(process.env.BENCH_TRIGGER_EVENTS ?? 3000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = 50;
const STACKS = 10;
const TARGET_PER_SEC = 1000;

async function runTriggerBench() {
  const namespace = `bench-${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'stacklink-bench-trigger-'));
  const storePath = path.join(dir, 'stacklink.db');
  const adminToken = randomBytes(24).toString('hex');
  const internalToken = randomBytes(24).toString('hex');
  const common = {
    RABBITMQ_URL,
    REDIS_URL,
    NAMESPACE: namespace,
    LOG_LEVEL: 'warn',
    INTERNAL_TOKEN: internalToken,
  };
  const procs = [];
  const sim = await startSimulator({ pageSize: 100 });
  const connection = await amqp.connect(RABBITMQ_URL);
  const rawQueue = `${namespace}.bench.raw`;
  try {
    sim.addUser({ name: 'bench', token: 'bench-token-not-secret', permission: 'admin' });
    const repo = sim.addRepository({ project: 'PRJ', slug: 'infra' });

    const integration = await startIntegrationProcess({ env: common, dir, adminToken });
    procs.push(integration.proc);
    const { id: integrationId } = await createIntegration(integration.url, adminToken, {
      name: 'bench',
      apiHost: sim.url,
      username: 'bench',
      accessToken: 'bench-token-not-secret',
    });

    // Ten stacks on the repository, tracking main, one project root each.
    const { openSqliteStore } = require('@stacklink/stack-trigger');
    const store = openSqliteStore(storePath);
    await createBenchStacks(store, STACKS, integrationId);

    // One commit per event, pushed to main in the simulator, so Bitbucket confirms that main holds it
    // (docs/architecture.md §12); the event announces main moving from its parent to it: a tracked run on
    // the one stack it touches. Events are handled 50 at a time, so a push handled after a newer one of
    // the same stack is superseded: every event ends as a run or as superseded.
    let serial = 0;
    async function makeEvents(count) {
      const bodies = [];
      for (let i = 0; i < count; i++) {
        serial += 1;
        const base = repo.refs.get('refs/heads/main');
        const { commit } = await sim.push({
          project: 'PRJ',
          repo: 'infra',
          branch: 'main',
          files: [`stacks/s${serial % STACKS}/change-${serial}.tf`],
        });
        const now = new Date().toISOString();
        const message = toBusMessage({
          specVersion: 1,
          id: randomUUID(),
          provider: 'bitbucket-dc',
          integrationId,
          type: 'push',
          deliveryId: randomUUID(),
          receivedAt: now,
          occurredAt: now,
          actor: { id: 1, slug: 'bench', name: 'bench', displayName: 'Bench' },
          repository: { projectKey: 'PRJ', slug: 'infra', id: repo.id, name: 'infra' },
          push: {
            changes: [
              { ref: 'refs/heads/main', refType: 'branch', action: 'updated', before: base, after: commit },
            ],
          },
        });
        bodies.push({ ...message, content: Buffer.from(JSON.stringify(message.body)) });
      }
      return bodies;
    }

    const metricsPort = await freePort();
    const worker = await startNode(
      'trigger',
      path.join(ROOT, 'services/stack-trigger/dist/src/roles/trigger.js'),
      {
        ...common,
        PORT: String(metricsPort),
        STORE_URL: `sqlite:${storePath}`,
        INTEGRATION_URL: integration.url,
        TRIGGER_CONCURRENCY: String(CONCURRENCY),
      },
      `http://127.0.0.1:${metricsPort}/readyz`,
    );
    procs.push(worker);
    const metric = async (series) => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      return line ? Number(line.slice(series.length + 1)) : 0;
    };
    const handled = () => metric('stacklink_trigger_events_total{type="push",outcome="handled"}');

    const rawPort = await freePort();
    const publisher = await connection.createConfirmChannel();
    await publisher.assertQueue(rawQueue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    const raw = await startNode(
      'raw-consumer',
      path.join(__dirname, 'raw-consumer.js'),
      { RABBITMQ_URL, QUEUE: rawQueue, PREFETCH: String(CONCURRENCY), PORT: String(rawPort) },
      `http://127.0.0.1:${rawPort}/`,
    );
    procs.push(raw);
    const acked = async () => Number(await (await fetch(`http://127.0.0.1:${rawPort}/count`)).text());

    /** Publishes every event (confirmed, persistent) and times until `count()` grew by as many. */
    async function measure(events, publishOne, count, pid) {
      const before = await count();
      const cpuBefore = cpuSeconds(pid);
      const started = process.hrtime.bigint();
      for (const e of events) publishOne(e);
      await publisher.waitForConfirms();
      for (;;) {
        if ((await count()) >= before + events.length) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      return {
        perSec: events.length / seconds,
        cpuUs: ((cpuSeconds(pid) - cpuBefore) / events.length) * 1e6,
      };
    }
    const toWorker = (e) =>
      publisher.publish(`${namespace}.${e.exchange}`, e.routingKey, e.content, {
        persistent: true,
        mandatory: true,
        messageId: e.messageId,
        headers: e.headers,
        contentType: 'application/json',
      });
    const toRaw = (e) =>
      publisher.sendToQueue(rawQueue, e.content, {
        persistent: true,
        messageId: e.messageId,
        contentType: 'application/json',
      });

    // Warm-up: JIT, connection pools, the credentials cache.
    const warm = await makeEvents(300);
    await measure(warm, toWorker, handled, worker.pid);
    await measure(warm, toRaw, acked, raw.pid);
    const ours = [];
    const reference = [];
    const callsPerEvent = [];
    for (let round = 0; round < ROUNDS; round++) {
      const events = await makeEvents(EVENTS);
      const requestsBefore = sim.recorded.requests.length;
      ours.push(await measure(events, toWorker, handled, worker.pid));
      callsPerEvent.push((sim.recorded.requests.length - requestsBefore) / events.length);
      reference.push(await measure(events, toRaw, acked, raw.pid));
      await publisher.purgeQueue(`${namespace}.stack-trigger.status-updates`);
      await publisher.purgeQueue(`${namespace}.runs.ready`);
    }
    const runs = (await store.runs.listActive()).length;
    const superseded = await metric('stacklink_trigger_unconfirmed_total{reason="superseded"}');
    const refused = await metric('stacklink_trigger_unconfirmed_total{reason="refused"}');
    await store.close();
    const expectedRuns = 300 + ROUNDS * EVENTS;

    const oursPerSec = median(ours.map((x) => x.perSec));
    const refPerSec = median(reference.map((x) => x.perSec));
    const rows = [
      {
        benchmark: `trigger: push events, ${STACKS} stacks, 1 run/event, prefetch ${CONCURRENCY}`,
        target: 'stacklink trigger worker (1 process)',
        'events/s (median)': oursPerSec.toFixed(0),
        'vs raw consume': (oursPerSec / refPerSec).toFixed(2),
        'CPU µs/event': median(ours.map((x) => x.cpuUs)).toFixed(0),
        'Bitbucket calls/event': median(callsPerEvent).toFixed(2),
        'peak RSS MiB': worker.peakRssMiB().toFixed(0),
        'runs created': `${runs}/${expectedRuns}`,
        superseded: String(superseded),
      },
      {
        benchmark: `raw consume: same count and size, quorum queue`,
        target: 'plain amqplib consumer, ack only',
        'events/s (median)': refPerSec.toFixed(0),
        'vs raw consume': '1.00',
        'CPU µs/event': median(reference.map((x) => x.cpuUs)).toFixed(0),
        'Bitbucket calls/event': '-',
        'peak RSS MiB': raw.peakRssMiB().toFixed(0),
        'runs created': '-',
        superseded: '-',
      },
    ];
    console.log(
      `trigger: ours ${oursPerSec.toFixed(0)} events/s, reference ${refPerSec.toFixed(0)} messages/s, ratio ${(oursPerSec / refPerSec).toFixed(2)}, Bitbucket calls/event ${median(callsPerEvent).toFixed(2)}`,
    );
    const verdict = {
      [`throughput ≥ ${TARGET_PER_SEC}/s`]: oursPerSec >= TARGET_PER_SEC,
      'one run or superseded per event, none refused': runs + superseded === expectedRuns && refused === 0,
    };
    // run.js prints "rounds × durationS s": the median length of one of our rounds.
    return { rows, verdict, rounds: ROUNDS, durationS: (EVENTS / oursPerSec).toFixed(1) };
  } finally {
    for (const p of procs.reverse()) await p.stop().catch(() => undefined);
    await connection.close().catch(() => undefined);
    await sim.close().catch(() => undefined);
    await deleteNamespace({
      namespace,
      amqpUrl: RABBITMQ_URL,
      redisUrl: REDIS_URL,
      topologies: [
        topologyNames(stackTriggerTopology),
        { exchanges: ['integration.events'], queues: ['bench.raw'] },
      ],
    }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { runTriggerBench };
