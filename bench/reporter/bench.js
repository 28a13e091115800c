'use strict';
// Reporter throughput (issue: docs/architecture.md §8): commit statuses delivered per second to a Bitbucket
// limited to 5 requests/s versus an unlimited one, and the 429s met. The reference beside ours, measured in
// the same run: a naive reporter — the Bitbucket client with its own retries (it honours Retry-After), 20
// posts at once, no shared rate limit — against the same limited server.
const { randomBytes, randomUUID } = require('node:crypto');
const { createServer } = require('node:http');
const path = require('node:path');
const { createBitbucketClient } = require('@stacklink/bitbucket');
const { startSimulator } = require('@stacklink/bitbucket-simulator');
const { createBus, topologyNames } = require('@stacklink/bus');
const { createSilentLogger } = require('@stacklink/logger');
const { RUN_STATE_CHANGED, RUNS_EXCHANGE, stackTriggerTopology } = require('@stacklink/stack-trigger');
const { deleteNamespace, RABBITMQ_URL, REDIS_URL } = require('@stacklink/testing');
const { freePort, median, startNode } = require('../lib/processes');

const ROOT = path.resolve(__dirname, '../..');
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LIMIT = { perSecond: 5, burst: 5 };
const UNLIMITED_COUNT = 1000;
const TOKEN = 'bench-bitbucket-token';

async function simulator(options) {
  const sim = await startSimulator(options);
  sim.addUser({ name: 'stacklink', token: TOKEN, permission: 'admin' });
  sim.addRepository({ project: 'PRJ', slug: 'infra' });
  const { commit } = await sim.push({ project: 'PRJ', repo: 'infra', branch: 'main', files: ['main.tf'] });
  return { sim, commit };
}

/** The integration service's credentials endpoint for two integrations (the reporter's only other peer). */
async function credentialsServer(internalToken, integrations) {
  const server = createServer((req, res) => {
    const id = /^\/internal\/v1\/integrations\/([^/]+)\/credentials$/.exec(req.url ?? '')?.[1];
    const entry = id && integrations[id];
    const ok = entry && req.headers.authorization === `Bearer ${internalToken}`;
    res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify(ok ? { ...entry, username: 'stacklink', accessToken: TOKEN, tls: {} } : { error: {} }),
    );
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => server.close(r)),
  };
}

function message(integrationId, commit, i) {
  return {
    specVersion: 1,
    type: RUN_STATE_CHANGED,
    runId: randomUUID(),
    version: 3,
    state: 'FINISHED',
    runType: 'tracked',
    commit,
    ref: 'refs/heads/main',
    trigger: { kind: 'push' },
    stack: {
      id: `stk-${i}`,
      name: `stack ${i}`,
      integrationId,
      repository: { projectKey: 'PRJ', slug: 'infra' },
      projectRoot: '',
    },
    occurredAt: new Date().toISOString(),
  };
}

/** Most requests the server received in any one-second window. */
function busiestSecond(times) {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i] - sorted[j] >= 1000) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

async function until(condition, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('statuses not delivered in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Publishes `count` final statuses at once; statuses/s from the first publish to the last delivery. */
async function throughReporter(bus, target, integrationId, count) {
  const { sim, commit } = target;
  const before = { statuses: sim.recorded.statuses.length, requests: sim.recorded.requests.length };
  const started = Date.now();
  await Promise.all(
    Array.from({ length: count }, (_, i) => {
      const m = message(integrationId, commit, i);
      return bus.publish(RUNS_EXCHANGE, RUN_STATE_CHANGED, m, { messageId: m.runId });
    }),
  );
  await until(
    () => sim.recorded.statuses.length - before.statuses >= count,
    120_000 + (count / LIMIT.perSecond) * 2000,
  );
  const seconds = (Date.now() - started) / 1000;
  const requests = sim.recorded.requests.slice(before.requests);
  return {
    perSec: count / seconds,
    rejected: requests.filter((r) => r.status === 429).length,
    busiest: busiestSecond(requests.map((r) => r.at)),
  };
}

async function naive(target, count) {
  const { sim, commit } = target;
  const client = createBitbucketClient({ baseUrl: sim.url, token: TOKEN });
  const before = sim.recorded.requests.length;
  const started = Date.now();
  let next = 0;
  let lost = 0;
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (next < count) {
        const i = next++;
        await client
          .postBuildStatus('PRJ', 'infra', commit, {
            key: `stacklink/naive-${i}`,
            state: 'SUCCESSFUL',
            url: 'http://ui/x',
            name: `stack ${i}`,
          })
          .catch(() => lost++);
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  const requests = sim.recorded.requests.slice(before);
  return {
    perSec: (count - lost) / seconds,
    rejected: requests.filter((r) => r.status === 429).length,
    busiest: busiestSecond(requests.map((r) => r.at)),
    lost,
  };
}

async function runReporterBench() {
  const namespace = `bench-${randomBytes(4).toString('hex')}`;
  const internalToken = randomBytes(24).toString('hex');
  const limited = await simulator({ rateLimit: LIMIT });
  const unlimited = await simulator({});
  const naiveTarget = await simulator({ rateLimit: LIMIT });
  const credentials = await credentialsServer(internalToken, {
    'int-limited': { apiHost: limited.sim.url },
    'int-unlimited': { apiHost: unlimited.sim.url },
  });
  const logger = createSilentLogger();
  const bus = createBus({ url: RABBITMQ_URL, logger, namespace, topology: stackTriggerTopology });
  let reporter;
  try {
    await bus.start();
    const port = await freePort();
    reporter = await startNode(
      'reporter',
      path.join(ROOT, 'services/stack-trigger/dist/src/roles/reporter.js'),
      {
        PORT: String(port),
        RABBITMQ_URL,
        REDIS_URL,
        // The bench's stacks are in no store: statuses only, no pull-request comments.
        STORE_URL: 'sqlite::memory:',
        NAMESPACE: namespace,
        LOG_LEVEL: 'warn',
        INTERNAL_TOKEN: internalToken,
        INTEGRATION_URL: credentials.url,
        REPORTER_CONCURRENCY: '50',
        REPORTER_RATE_PER_SECOND: '10000',
        REPORTER_RATE_BURST: '1000',
        // Configured at Bitbucket's rate, without its burst: a slot of slack for network jitter.
        REPORTER_RATE_LIMITS: JSON.stringify({ 'int-limited': { perSecond: LIMIT.perSecond, burst: 1 } }),
      },
      `http://127.0.0.1:${port}/readyz`,
    );
    const limitedCount = LIMIT.perSecond * DURATION_S;
    // Warm-up: connections, credentials cache, JIT.
    await throughReporter(bus, unlimited, 'int-unlimited', 100);
    const samples = { limited: [], naive: [], unlimited: [] };
    for (let round = 0; round < ROUNDS; round++) {
      samples.limited.push(await throughReporter(bus, limited, 'int-limited', limitedCount));
      samples.naive.push(await naive(naiveTarget, limitedCount));
      samples.unlimited.push(await throughReporter(bus, unlimited, 'int-unlimited', UNLIMITED_COUNT));
    }
    const row = (benchmark, target, s, count) => ({
      benchmark,
      target,
      'statuses/round': count,
      'statuses/s (median)': median(s.map((x) => x.perSec)).toFixed(1),
      '429s (all rounds)': s.reduce((n, x) => n + x.rejected, 0),
      'busiest second': Math.max(...s.map((x) => x.busiest)),
      lost: s.reduce((n, x) => n + (x.lost ?? 0), 0),
    });
    const rows = [
      row(
        `Bitbucket limited to ${LIMIT.perSecond} req/s`,
        'stacklink reporter',
        samples.limited,
        limitedCount,
      ),
      row(
        `Bitbucket limited to ${LIMIT.perSecond} req/s`,
        'naive: client retries, 20 at once',
        samples.naive,
        limitedCount,
      ),
      row('Bitbucket unlimited', 'stacklink reporter', samples.unlimited, UNLIMITED_COUNT),
    ];
    const limitedPerSec = median(samples.limited.map((x) => x.perSec));
    const verdict = {
      'zero 429s when limited': samples.limited.every((x) => x.rejected === 0),
      'holds the limit (≥ 80 % of 5/s)':
        limitedPerSec >= 0.8 * LIMIT.perSecond && limitedPerSec <= LIMIT.perSecond * 1.2,
    };
    return { rows, verdict, rounds: ROUNDS, durationS: DURATION_S };
  } finally {
    if (reporter) await reporter.stop().catch(() => undefined);
    await bus.close().catch(() => undefined);
    await credentials.close();
    for (const s of [limited, unlimited, naiveTarget]) await s.sim.close();
    await deleteNamespace({
      namespace,
      amqpUrl: RABBITMQ_URL,
      redisUrl: REDIS_URL,
      ...topologyNames(stackTriggerTopology),
    }).catch(() => undefined);
  }
}

module.exports = { runReporterBench };
