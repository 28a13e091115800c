'use strict';
// Gateway throughput: our webhook-gateway beside a lean reference gateway and a bare node:http server,
// measured in the same run, in interleaved rounds, reporting medians (issue 5).
const { randomBytes, randomUUID } = require('node:crypto');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');
const amqp = require('amqplib');
const autocannon = require('autocannon');
const { sign } = require('@stacklink/bitbucket');
const { topologyNames } = require('@stacklink/bus');
const { gatewayTopology } = require('@stacklink/contracts');
const { ownWebhook, readJson } = require('@stacklink/fixtures');
const { deleteNamespace, RABBITMQ_URL, REDIS_URL } = require('@stacklink/testing');
const { createIntegration, startIntegrationProcess } = require('../lib/integration');
const { cpuSeconds, findPid, freePort, median, startNode } = require('../lib/processes');

const ROOT = path.resolve(__dirname, '../..');
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = 50;
const SETTLE_MS = 2000;

/** A realistic ~5 KB pr:opened body: our own fixture (libs/fixtures) with a description of the usual length. */
function prOpenedBody() {
  const body = readJson(ownWebhook('pr-opened.json'));
  const base = Buffer.byteLength(JSON.stringify(body));
  const para = 'This change moves the staging network module to the shared VPC and updates the outputs. ';
  body.pullRequest.description = para.repeat(Math.max(0, Math.ceil((5 * 1024 - base) / para.length)));
  return Buffer.from(JSON.stringify(body));
}

const brokerPid = findPid('beam.smp');
const redisPid = findPid('redis-server');

async function load(url, body, signature, pid) {
  const cpuBefore = [cpuSeconds(pid), cpuSeconds(brokerPid), cpuSeconds(redisPid)];
  const result = await autocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    duration: DURATION_S,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'x-event-key': 'pr:opened',
      'x-hub-signature': signature,
    },
    body,
    requests: [
      {
        setupRequest: (req) => ({ ...req, headers: { ...req.headers, 'x-request-id': randomUUID() } }),
      },
    ],
  });
  const accepted = result['2xx'];
  const cpuAfter = [cpuSeconds(pid), cpuSeconds(brokerPid), cpuSeconds(redisPid)];
  const perReq = (i) => (accepted > 0 ? ((cpuAfter[i] - cpuBefore[i]) / accepted) * 1e6 : NaN);
  return {
    cpuUs: perReq(0),
    brokerCpuUs: perReq(1),
    redisCpuUs: perReq(2),
    acceptedPerSec: accepted / (result.duration || DURATION_S),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

async function runGatewayBench() {
  const namespace = `bench-${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'stacklink-bench-'));
  const adminToken = randomBytes(24).toString('hex');
  const internalToken = randomBytes(24).toString('hex');
  const common = {
    RABBITMQ_URL,
    REDIS_URL,
    NAMESPACE: namespace,
    LOG_LEVEL: 'warn',
    INTERNAL_TOKEN: internalToken,
    // The gateway's token (docs/architecture.md §12); the integration service accepts it for webhook secrets.
    GATEWAY_TOKEN: randomBytes(24).toString('hex'),
  };
  // Every process is stopped at the end, also when a later one fails to start.
  const procs = [];
  const admin = await amqp.connect(RABBITMQ_URL);
  try {
    // A durable quorum queue bound to vcs.events stands in for stack-trigger's queue: the gateway
    // publishes with `mandatory`, so without one every event would be refused as unroutable.
    const ch = await admin.createChannel();
    const exchange = `${namespace}.vcs.events`;
    const sink = `${namespace}.bench.sink`;
    await ch.assertExchange(exchange, 'topic', { durable: true });
    await ch.assertQueue(sink, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await ch.bindQueue(sink, exchange, '#');

    const integration = await startIntegrationProcess({ env: common, dir, adminToken });
    procs.push(integration.proc);
    const { id, webhook } = await createIntegration(integration.url, adminToken, {
      name: 'bench',
      apiHost: 'http://127.0.0.1:7990',
      username: 'bench',
      accessToken: randomBytes(20).toString('hex'),
    });

    const body = prOpenedBody();
    const signature = sign(webhook.secret, body);
    const targets = [];
    /** Starts a target on a free port (it gets PORT) and adds it to the ones measured. */
    const addTarget = async (key, label, script, env, readyPath) => {
      const port = await freePort();
      const proc = await startNode(
        key,
        script,
        { ...env, PORT: String(port) },
        `http://127.0.0.1:${port}${readyPath}`,
      );
      procs.push(proc);
      targets.push({ key, label, proc, url: `http://127.0.0.1:${port}/webhooks/bitbucket-dc/${id}` });
    };
    await addTarget('bare', 'bare node:http (reads body)', path.join(__dirname, 'bare-server.js'), {}, '/');
    // The reference of the target: the dedup issue 5 asks for (see lean-gateway.js). The one-step
    // variant, which can lose a delivery, is measured beside it to show what that safety costs; the
    // normalizing one adds only the normalization docs/architecture.md §6 asks of every gateway, to show what that
    // work costs against the reference on this machine.
    for (const [key, label, dedup, normalizeToo] of [
      ['lean', 'lean reference gateway', 'two-step', '0'],
      ['lean-one-step', 'lean, one-step dedup (unsafe)', 'one-step', '0'],
      ['lean-normalize', 'lean + normalize()', 'two-step', '1'],
    ]) {
      const env = {
        ...common,
        SECRET: webhook.secret,
        EXCHANGE: exchange,
        KEY_PREFIX: `${namespace}:`,
        LEAN_DEDUP: dedup,
        LEAN_NORMALIZE: normalizeToo,
      };
      await addTarget(key, label, path.join(__dirname, 'lean-gateway.js'), env, '/');
    }
    // BENCH_GATEWAY_B=<path to another build's roles/gateway.js> measures a second gateway build in the same run
    // (e.g. a worktree of the last commit): an A/B comparison under the same machine noise.
    const gateways = [
      [
        'gateway',
        'stacklink webhook-gateway',
        path.join(ROOT, 'services/webhook-gateway/dist/src/roles/gateway.js'),
      ],
    ];
    if (process.env.BENCH_GATEWAY_B) {
      gateways.push(['gateway-b', 'webhook-gateway, build B', path.resolve(process.env.BENCH_GATEWAY_B)]);
    }
    const gatewayEnv = { ...common, HOST: '127.0.0.1', INTEGRATION_URL: integration.url };
    for (const [key, label, main] of gateways) await addTarget(key, label, main, gatewayEnv, '/readyz');
    // BENCH_TARGETS=lean,gateway measures a subset (quicker while working on one target).
    const only = process.env.BENCH_TARGETS?.split(',');
    if (only) targets.splice(0, targets.length, ...targets.filter((t) => only.includes(t.key)));

    // Every target starts on a settled broker: purging tens of thousands of messages from a quorum
    // queue keeps RabbitMQ busy for a moment, which would otherwise load whoever runs next.
    const settle = async () => {
      await ch.purgeQueue(sink);
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    };
    // Warm-up: JIT, connection pools, the secret cache.
    for (const t of targets) {
      await load(t.url, body, signature, t.proc.pid).catch(() => undefined);
      await settle();
    }
    const samples = new Map(targets.map((t) => [t.label, []]));
    for (let round = 0; round < ROUNDS; round++) {
      // The order rotates every round, so no target always follows the same one.
      for (let i = 0; i < targets.length; i++) {
        const t = targets[(i + round) % targets.length];
        samples.get(t.label).push(await load(t.url, body, signature, t.proc.pid));
        await settle();
      }
    }
    const summary = targets.map((t) => {
      const s = samples.get(t.label);
      return {
        key: t.key,
        label: t.label,
        reqPerSec: median(s.map((x) => x.acceptedPerSec)),
        p50: median(s.map((x) => x.p50)),
        p99: median(s.map((x) => x.p99)),
        errors: s.reduce((n, x) => n + x.errors, 0),
        rss: t.proc.peakRssMiB(),
        cpuUs: median(s.map((x) => x.cpuUs)),
        brokerCpuUs: median(s.map((x) => x.brokerCpuUs)),
        redisCpuUs: median(s.map((x) => x.redisCpuUs)),
      };
    });
    const lean = summary.find((s) => s.key === 'lean')?.reqPerSec ?? Number.NaN;
    const rows = summary.map((s) => ({
      benchmark: 'gateway: signed 5 KB pr:opened, 50 conns',
      target: s.label,
      'accepted/s (median)': s.reqPerSec.toFixed(0),
      'p50 ms': s.p50.toFixed(1),
      'p99 ms': s.p99.toFixed(1),
      'peak RSS MiB': s.rss.toFixed(0),
      'vs lean': (s.reqPerSec / lean).toFixed(2),
      'CPU µs/req': s.cpuUs.toFixed(0),
      'broker µs/req': s.brokerCpuUs.toFixed(0),
      'redis µs/req': s.redisCpuUs.toFixed(0),
      'non-2xx/errors': s.errors,
    }));
    const ours = summary.find((s) => s.key === 'gateway') ?? {
      reqPerSec: Number.NaN,
      p99: Number.NaN,
      rss: Number.NaN,
    };
    const floor = summary.find((s) => s.key === 'lean-normalize')?.reqPerSec ?? Number.NaN;
    // The throughput target: ≥ 0.95 × the normalizing floor of the same run (decision 007); without that
    // target in the run (BENCH_TARGETS), the older ≥ 0.9 × the lean reference.
    const verdict = {
      throughput: Number.isNaN(floor) ? ours.reqPerSec >= 0.9 * lean : ours.reqPerSec >= 0.95 * floor,
      p99: ours.p99 <= 100,
      rss: ours.rss <= 150,
    };
    const notes = Number.isNaN(floor)
      ? []
      : [
          `normalizing floor: lean + normalize() ${(floor / lean).toFixed(2)} × the lean reference; ` +
            `the gateway ${(ours.reqPerSec / floor).toFixed(2)} × that floor`,
        ];
    return { rows, verdict, notes, rounds: ROUNDS, durationS: DURATION_S };
  } finally {
    for (const p of procs.reverse()) await p.stop().catch(() => undefined);
    await admin.close().catch(() => undefined);
    await deleteNamespace({
      namespace,
      amqpUrl: RABBITMQ_URL,
      redisUrl: REDIS_URL,
      exchanges: ['vcs.events', 'integration.events'],
      queues: ['bench.sink'],
      // What the gateways declared: the delivery-records quorum queue with its retry and dead-letter
      // queues would otherwise stay on the broker with every delivery of the run in it.
      topologies: [topologyNames(gatewayTopology('bench'))],
    }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { runGatewayBench };
