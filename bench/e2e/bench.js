'use strict';
// End-to-end latency: webhook accepted (202) → the run's INPROGRESS commit status received by Bitbucket,
// through every role as its own process (2 gateways, 2 trigger workers, 2 reporters, the API, the
// integration service), with the Bitbucket simulator as Bitbucket. Paced at a fixed event rate; the
// reference figure measured in the same run is the 202 round trip alone (the floor of the path).
const { randomBytes } = require('node:crypto');
const { mkdtempSync, rmSync } = require('node:fs');
const http = require('node:http');
const { tmpdir } = require('node:os');
const path = require('node:path');
const { startSimulator, WEBHOOK_EVENTS } = require('@stacklink/bitbucket-simulator');
const { topologyNames } = require('@stacklink/bus');
const { deleteNamespace, RABBITMQ_URL, REDIS_URL } = require('@stacklink/testing');
const { stackTriggerTopology } = require('@stacklink/stack-trigger');
const { freePort, startNode } = require('../lib/processes');

const ROOT = path.resolve(__dirname, '../..');
const RATE = Number(process.env.BENCH_E2E_RATE ?? 100);
const DURATION_S = Number(process.env.BENCH_E2E_DURATION_S ?? 20);
const WARMUP_S = 3;
const REPOSITORIES = 5;
const STACKS_PER_REPOSITORY = 10;
const TARGET_P99_MS = 250;

function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Round-robin load balancer in front of the gateways. */
async function startBalancer(targets) {
  let next = 0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const server = http.createServer((req, res) => {
    const target = new URL(req.url, targets[next++ % targets.length]);
    const upstream = http.request(target, { method: req.method, headers: req.headers, agent }, (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => {
      agent.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

async function call(url, token, body) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`POST ${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function runE2eBench() {
  const namespace = `bench-e2e-${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'stacklink-bench-e2e-'));
  const adminToken = randomBytes(24).toString('hex');
  const procs = [];
  const sim = await startSimulator({ pageSize: 100 });
  sim.addUser({ name: 'stacklink', token: 'bench-token', permission: 'admin' });
  const gatewayUrls = [];
  const balancer = await startBalancer(gatewayUrls);
  try {
    const port = { integration: await freePort(), api: await freePort() };
    const gatewayToken = randomBytes(24).toString('hex');
    const runnerToken = randomBytes(24).toString('hex');
    const common = {
      RABBITMQ_URL,
      REDIS_URL,
      NAMESPACE: namespace,
      LOG_LEVEL: 'warn',
      STORE_URL: `sqlite:${path.join(dir, 'stacklink.db')}`,
      ADMIN_TOKEN: adminToken,
      INTERNAL_TOKEN: randomBytes(24).toString('hex'),
      // docs/architecture.md §12: the gateway's and the runner's own tokens.
      GATEWAY_TOKEN: gatewayToken,
      RUNNER_TOKEN: runnerToken,
      RUNNER_TOKENS: runnerToken,
      MASTER_KEY: randomBytes(32).toString('base64'),
      INTEGRATION_URL: `http://127.0.0.1:${port.integration}`,
      STACK_TRIGGER_URL: `http://127.0.0.1:${port.api}`,
      PUBLIC_WEBHOOK_BASE_URL: balancer.url,
      PUBLIC_UI_URL: `http://127.0.0.1:${port.api}`,
    };
    const start = async (name, entry, env, p) =>
      procs[
        procs.push(
          await startNode(
            name,
            path.join(ROOT, entry),
            { ...common, ...env },
            `http://127.0.0.1:${p}/readyz`,
          ),
        ) - 1
      ];
    await start(
      'integration',
      'services/integration/dist/src/roles/integration.js',
      { PORT: String(port.integration) },
      port.integration,
    );
    await start(
      'stack-trigger',
      'services/stack-trigger/dist/src/roles/api.js',
      { PORT: String(port.api) },
      port.api,
    );
    for (let i = 0; i < 2; i++) {
      const p = await freePort();
      await start(
        `gateway-${i + 1}`,
        'services/webhook-gateway/dist/src/roles/gateway.js',
        { PORT: String(p), HOST: '127.0.0.1' },
        p,
      );
      gatewayUrls.push(`http://127.0.0.1:${p}`);
    }
    for (let i = 0; i < 2; i++) {
      const p = await freePort();
      await start(
        `trigger-${i + 1}`,
        'services/stack-trigger/dist/src/roles/trigger.js',
        { PORT: String(p) },
        p,
      );
    }
    for (let i = 0; i < 2; i++) {
      const p = await freePort();
      // The simulator has no rate limit; the default 10 req/s protects a real Bitbucket, not this path.
      await start(
        `reporter-${i + 1}`,
        'services/stack-trigger/dist/src/roles/reporter.js',
        { PORT: String(p), REPORTER_RATE_PER_SECOND: '2000', REPORTER_RATE_BURST: '200' },
        p,
      );
    }

    const integration = await call(`${common.INTEGRATION_URL}/api/v1/integrations`, adminToken, {
      name: 'bench',
      apiHost: sim.url,
      userFacingHost: sim.url,
      username: 'stacklink',
      accessToken: 'bench-token',
    });
    const stacks = new Map(); // `${repo}/${k}` → stack id
    for (let r = 1; r <= REPOSITORIES; r++) {
      const repo = `repo-${r}`;
      const roots = Array.from({ length: STACKS_PER_REPOSITORY }, (_, k) => `stacks/s${k}`);
      sim.addRepository({ project: 'BENCH', slug: repo, files: roots.map((root) => `${root}/main.tf`) });
      sim.addWebhook({
        project: 'BENCH',
        repo,
        url: integration.webhook.endpoint,
        secret: integration.webhook.secret,
        events: [...WEBHOOK_EVENTS],
      });
      for (const [k, root] of roots.entries()) {
        const stack = await call(`${common.STACK_TRIGGER_URL}/api/v1/stacks`, adminToken, {
          name: `${repo}-s${k}`,
          integrationId: integration.id,
          repository: { projectKey: 'BENCH', slug: repo },
          branch: 'main',
          projectRoot: root,
        });
        stacks.set(`${repo}/${k}`, stack.id);
      }
    }

    // Paced sender: event i leaves at t0 + i/RATE whatever the answers; each push touches one stack
    // (round robin over repositories and their stacks), so each accepted event means one run.
    const samples = [];
    const send = async (i, measured) => {
      const repo = `repo-${(i % REPOSITORIES) + 1}`;
      const k = Math.floor(i / REPOSITORIES) % STACKS_PER_REPOSITORY;
      const result = await sim.push({
        project: 'BENCH',
        repo,
        branch: 'main',
        files: [`stacks/s${k}/f${i}.tf`],
      });
      const acceptedAt = Date.now();
      const delivery = result.deliveries[0];
      if (measured)
        samples.push({
          stackKey: `stacklink/${stacks.get(`${repo}/${k}`)}`,
          commit: result.commit,
          sentAt: delivery.at,
          acceptedAt,
          status: delivery.status,
        });
    };
    const pace = async (seconds, measured) => {
      const total = Math.round(seconds * RATE);
      const t0 = Date.now();
      const inflight = [];
      for (let i = 0; i < total; i++) {
        const wait = t0 + (i * 1000) / RATE - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        inflight.push(send(measured ? WARMUP_S * RATE + i : i, measured));
      }
      await Promise.all(inflight);
      return (Date.now() - t0) / 1000;
    };
    await pace(WARMUP_S, false);
    const sentFor = await pace(DURATION_S, true);

    // First INPROGRESS (the QUEUED run) the simulator received per stack key and commit.
    const firstInProgress = () => {
      const at = new Map();
      for (const s of sim.recorded.statuses)
        if (s.state === 'INPROGRESS' && !at.has(`${s.key} ${s.commit}`)) at.set(`${s.key} ${s.commit}`, s.at);
      return at;
    };
    const accepted = samples.filter((s) => s.status === 202);
    const deadline = Date.now() + 30_000;
    let received = firstInProgress();
    while (Date.now() < deadline && accepted.some((s) => !received.has(`${s.stackKey} ${s.commit}`))) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      received = firstInProgress();
    }
    const fromAccepted = [];
    const fromSent = [];
    let missing = 0;
    for (const s of accepted) {
      const at = received.get(`${s.stackKey} ${s.commit}`);
      if (at === undefined) missing += 1;
      else {
        fromAccepted.push(Math.max(0, at - s.acceptedAt));
        fromSent.push(at - s.sentAt);
      }
    }
    const roundTrip = accepted.map((s) => s.acceptedAt - s.sentAt);
    const row = (label, values) => ({
      benchmark: `e2e: push → INPROGRESS, ${RATE} events/s, ${REPOSITORIES}×${STACKS_PER_REPOSITORY} stacks`,
      measure: label,
      samples: values.length,
      'p50 ms': percentile(values, 50).toFixed(0),
      'p99 ms': percentile(values, 99).toFixed(0),
      'max ms': Math.max(...values).toFixed(0),
    });
    const rows = [
      row('202 → INPROGRESS received (ours)', fromAccepted),
      row('send → INPROGRESS received', fromSent),
      row('reference: send → 202 (gateway round trip)', roundTrip),
    ];
    rows.push({
      benchmark: rows[0].benchmark,
      measure: `sent ${samples.length} in ${sentFor.toFixed(1)} s; non-202 ${samples.length - accepted.length}; no status ${missing}`,
      samples: '',
      'p50 ms': '',
      'p99 ms': '',
      'max ms': '',
    });
    const verdict = {
      [`p99 ≤ ${TARGET_P99_MS} ms`]: percentile(fromAccepted, 99) <= TARGET_P99_MS && missing === 0,
      'every event accepted': accepted.length === samples.length,
    };
    return { rows, verdict, rounds: 1, durationS: DURATION_S };
  } finally {
    for (const p of procs.reverse()) await p.stop().catch(() => undefined);
    await balancer.close();
    await sim.close();
    await deleteNamespace({
      namespace,
      amqpUrl: RABBITMQ_URL,
      redisUrl: REDIS_URL,
      topologies: [topologyNames(stackTriggerTopology), { exchanges: ['integration.events'] }],
    }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { runE2eBench };
