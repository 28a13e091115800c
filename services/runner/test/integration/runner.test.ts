import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import Redis from 'ioredis';
import { createBus, topologyNames, type Bus } from '@stacklink/bus';
import { stackTriggerTopology } from '@stacklink/contracts';
import { startServer, type RunningServer } from '@stacklink/http';
import { createCapturingLogger, createSilentLogger } from '@stacklink/logger';
import {
  createTcpProxy,
  deleteNamespace,
  RABBITMQ_URL,
  REDIS_URL,
  uniqueNamespace,
  waitFor,
} from '@stacklink/testing';
import {
  createApp,
  createBusRunEvents,
  createEventStreams,
  createRedisRunActivity,
  createRedisRunQueue,
  openSqliteStore,
  type Run,
  type Store,
} from '@stacklink/stack-trigger';
import { loadRunnerConfig } from '../../src/config';
import type { RunningRole } from '@stacklink/http';
import { startRunner } from '../../src/roles/runner';
import { createRunsApi } from '../../src/adapters/runs-api';
import { createRunLogShipper, type ShipRunLogDeps } from '../../src/domain/ship-run-log';

const ADMIN = 'admin-token-0123456789';
const RUNNER = 'runner-token-for-runner-tests-0123456789';
const silent = createSilentLogger();

/**
 * The reference runner against the real stack-trigger API (in-process, port 0) on real RabbitMQ and
 * Redis: runs reach it through `run.ready`, its reports go through POST /runs/{id}/state and /lease.
 */
describe('reference runner', function () {
  this.timeout(15_000);
  let dir: string;
  let namespace: string;
  let redis: Redis;
  let store: Store;
  let bus: Bus;
  let api: RunningServer;
  let runner: RunningRole | undefined;
  let stackId: string;
  let activity: ReturnType<typeof createRedisRunActivity>;
  let streams: ReturnType<typeof createEventStreams>;

  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${api.url}/api/v1${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Run };
  };
  const trigger = async (commit: string) => (await post(`/stacks/${stackId}/runs`, { commit })).body;
  const stateOf = async (runId: string) => (await store.runs.get(runId))!;
  /** The run's whole log as the API answers it. */
  const logOf = async (runId: string) => {
    const res = await fetch(`${api.url}/api/v1/runs/${runId}/logs?limit=1000`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    return (await res.json()) as {
      chunks: { seq: number; stream: string; text: string }[];
      complete: boolean;
    };
  };

  function start(env: Record<string, string>, logger = silent) {
    return startRunner(
      loadRunnerConfig({
        PORT: '0',
        RABBITMQ_URL,
        NAMESPACE: namespace,
        STACK_TRIGGER_URL: api.url,
        RUNNER_TOKEN: RUNNER,
        ...env,
      }),
      { logger },
    );
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'runner-'));
    namespace = uniqueNamespace('runner');
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    store = openSqliteStore(join(dir, 'store.db'));
    bus = createBus({ url: RABBITMQ_URL, logger: silent, namespace, topology: stackTriggerTopology });
    await bus.start();
    activity = createRedisRunActivity({ redis, namespace, logger: silent });
    streams = createEventStreams();
    const app = createApp({
      adminToken: ADMIN,
      runnerTokens: [RUNNER],
      internalToken: 'internal-token-0123456789',
      logger: silent,
      stacks: store.stacks,
      runs: store.runs,
      queue: createRedisRunQueue({ redis, namespace, leaseSeconds: 60 }),
      integrations: { checkRepository: async () => 'ok' },
      runEvents: createBusRunEvents(bus),
      metrics: {
        runsCreated: () => undefined,
        runsOverCap: () => undefined,
        runsCanceled: () => undefined,
        unconfirmed: () => undefined,
      },
      runLogs: {
        logs: store.logs,
        activity,
        streams,
        maxBytes: 5 * 1024 * 1024,
        graceSeconds: 60,
        pollMs: 1000,
        heartbeatMs: 15_000,
      },
    });
    api = await startServer(app, { port: 0, logger: silent });
    stackId = (
      await store.stacks.create({
        name: 'network',
        integrationId: 'int-1',
        repository: { projectKey: 'PRJ', slug: 'infra' },
        branch: 'main',
        projectRoot: 'stacks/network',
        additionalProjectGlobs: [],
        triggerOnTags: false,
        allowForks: false,
        labels: [],
      })
    ).id;
  });

  afterEach(async () => {
    await runner?.stop();
    runner = undefined;
    streams.closeAll();
    await api.close();
    activity.close();
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

  it('runs a ready run with its details in the environment and reports RUNNING, then FINISHED with exit code 0', async () => {
    const out = join(dir, 'out.txt');
    runner = await start({
      RUNNER_COMMAND: `echo "$STACKLINK_RUN_ID $STACKLINK_STACK_NAME $STACKLINK_COMMIT" > ${out}`,
    });
    const run = await trigger('a'.repeat(40));

    const done = await waitFor(async () => {
      const now = await stateOf(run.id);
      return now.state === 'FINISHED' ? now : undefined;
    });

    expect(readFileSync(out, 'utf8').trim()).to.equal(`${run.id} network ${'a'.repeat(40)}`);
    expect(done).to.include({ note: 'exit code 0' });
    // QUEUED (1) → RUNNING (2) → FINISHED (3): both reports went through the API's transitions.
    expect(done.version).to.equal(3);
  });

  it('sends the plan counts and annotations the command wrote with the final state, and the API keeps them', async () => {
    const plan = {
      resource_changes: [
        { change: { actions: ['create'] } },
        { change: { actions: ['create', 'delete'] } },
        { change: { actions: ['update'] } },
      ],
    };
    const findings = [
      { path: 'stacks/network/main.tf', line: 3, severity: 'MEDIUM', message: 'no tags' },
      { path: 'stacks/network/x.tf', severity: 'SEVERE', message: 'not a severity: dropped' },
    ];
    writeFileSync(join(dir, 'plan.json'), JSON.stringify(plan));
    writeFileSync(join(dir, 'findings.json'), JSON.stringify(findings));
    runner = await start({
      RUNNER_COMMAND: `cp ${join(dir, 'plan.json')} "$STACKLINK_PLAN_JSON" && cp ${join(dir, 'findings.json')} "$STACKLINK_ANNOTATIONS_JSON"`,
    });
    const run = await trigger('e'.repeat(40));

    const done = await waitFor(async () => {
      const now = await stateOf(run.id);
      return now.state === 'FINISHED' ? now : undefined;
    });
    expect((done as { summary?: unknown }).summary).to.deep.equal({
      add: 2,
      change: 1,
      destroy: 1,
      summary: 'Plan: 2 to add, 1 to change, 1 to destroy.',
      annotations: [{ path: 'stacks/network/main.tf', line: 3, severity: 'MEDIUM', message: 'no tags' }],
    });
  });

  it('reports FAILED with the exit code when the command fails', async () => {
    runner = await start({ RUNNER_COMMAND: 'exit 3' });
    const run = await trigger('b'.repeat(40));

    const failed = await waitFor(async () => {
      const now = await stateOf(run.id);
      return now.state === 'FAILED' ? now : undefined;
    });
    expect(failed.note).to.equal('exit code 3');
  });

  it('refuses a stored project root that resolves outside its work directory: the run fails, the command never runs', async () => {
    // A stack stored before the API refused such roots (docs/architecture.md §12).
    await store.stacks.update(stackId, { projectRoot: '../../etc' });
    const out = join(dir, 'ran.txt');
    runner = await start({ RUNNER_COMMAND: `touch ${out}` });
    const run = await trigger('e'.repeat(40));

    const failed = await waitFor(async () => {
      const now = await stateOf(run.id);
      return now.state === 'FAILED' ? now : undefined;
    });
    expect(failed.note).to.include('resolves outside the work directory');
    expect(existsSync(out)).to.equal(false);
  });

  it('renews the lease while the command runs', async () => {
    const go = join(dir, 'go');
    const capture = createCapturingLogger();
    runner = await start(
      { RUNNER_COMMAND: `while [ ! -f ${go} ]; do sleep 0.02; done`, LEASE_RENEW_SECONDS: '0.1' },
      capture.logger,
    );
    const run = await trigger('c'.repeat(40));

    await waitFor(() => capture.lines.filter((l) => l.message === 'lease renewed').length >= 2, {
      message: 'the runner did not renew the lease',
    });
    expect((await stateOf(run.id)).state).to.equal('RUNNING');
    writeFileSync(go, '');
    await waitFor(async () => (await stateOf(run.id)).state === 'FINISHED');
  });

  it('skips a run that was canceled before it could start, without running the command', async () => {
    const out = join(dir, 'ran.txt');
    const run = await trigger('d'.repeat(40));
    expect((await post(`/runs/${run.id}/state`, { state: 'CANCELED' })).status).to.equal(200);
    const capture = createCapturingLogger();

    runner = await start({ RUNNER_COMMAND: `touch ${out}` }, capture.logger);

    await waitFor(() => capture.lines.some((l) => String(l.message).startsWith('run skipped')), {
      message: 'the runner did not skip the canceled run',
    });
    expect(existsSync(out)).to.equal(false);
    expect((await stateOf(run.id)).state).to.equal('CANCELED');
  });

  it('stopping lets a running command finish within the shutdown grace and reports it FINISHED', async () => {
    const go = join(dir, 'go-grace');
    runner = await start({
      RUNNER_COMMAND: `while [ ! -f ${go} ]; do sleep 0.02; done`,
      RUNNER_SHUTDOWN_GRACE_SECONDS: '10',
    });
    const run = await trigger('e'.repeat(40));
    await waitFor(async () => (await stateOf(run.id)).state === 'RUNNING', { message: 'the run started' });

    const stopped = runner.stop();
    writeFileSync(go, '');
    await stopped;
    runner = undefined;

    expect(await stateOf(run.id)).to.include({ state: 'FINISHED', note: 'exit code 0' });
  });

  it('stopping stops a command that outlives the shutdown grace and reports its run FAILED at once', async () => {
    runner = await start({ RUNNER_COMMAND: 'sleep 30', RUNNER_SHUTDOWN_GRACE_SECONDS: '0.2' });
    const run = await trigger('f'.repeat(40));
    await waitFor(async () => (await stateOf(run.id)).state === 'RUNNING', { message: 'the run started' });

    await runner.stop();
    runner = undefined;

    // Reported before the runner's stop resolved: the run does not wait for its lease to expire.
    expect(await stateOf(run.id)).to.include({ state: 'FAILED', note: 'killed by SIGTERM' });
  });

  describe('run logs (README "Run logs")', () => {
    const shipperFor = (runId: string, options: Partial<ShipRunLogDeps> = {}) =>
      createRunLogShipper(runId, {
        api: createRunsApi({ baseUrl: api.url, runnerToken: RUNNER }),
        logger: silent,
        flushMs: 60_000,
        bufferBytes: 64 * 1024,
        ...options,
      });

    it("streams the command's output while it runs, then its last line, before reporting FINISHED", async () => {
      const go = join(dir, 'go-log');
      runner = await start({
        RUNNER_COMMAND: `echo planning; echo warning >&2; while [ ! -f ${go} ]; do sleep 0.02; done; echo applied`,
        RUNNER_LOG_FLUSH_MS: '50',
      });
      const run = await trigger('1'.repeat(40));

      const live = await waitFor(
        async () => {
          const log = await logOf(run.id);
          return log.chunks.some((c) => c.text.includes('warning')) ? log : undefined;
        },
        { message: 'the output reached the log while the command ran' },
      );
      expect((await stateOf(run.id)).state).to.equal('RUNNING');
      expect(live.complete).to.equal(false);
      writeFileSync(go, '');
      await waitFor(async () => (await stateOf(run.id)).state === 'FINISHED', { message: 'FINISHED' });

      const log = await logOf(run.id);
      expect(log.complete).to.equal(true);
      expect(log.chunks.map((c) => c.seq)).to.deep.equal(log.chunks.map((_, i) => i));
      const text = (stream: string) =>
        log.chunks
          .filter((c) => c.stream === stream)
          .map((c) => c.text)
          .join('');
      expect(text('stdout')).to.equal('planning\napplied\n');
      expect(text('stderr')).to.equal('warning\n');
      expect(log.chunks.at(-1)).to.include({ stream: 'system', text: 'exit code 0\n' });
    });

    it('sends once RUNNER_LOG_BUFFER_BYTES are waiting, without waiting for the flush interval', async () => {
      const run = await trigger('2'.repeat(40));
      const shipper = shipperFor(run.id, { bufferBytes: 1024 });
      shipper.write('stdout', Buffer.from('x'.repeat(600)));
      shipper.write('stdout', Buffer.from('y'.repeat(600)));
      await waitFor(async () => (await logOf(run.id)).chunks.length > 0, {
        message: 'a full buffer was sent',
      });
      await shipper.finish();
      expect((await logOf(run.id)).chunks.map((c) => c.text).join('')).to.equal(
        'x'.repeat(600) + 'y'.repeat(600),
      );
    });

    it('still sends output that comes after the shipper sat idle through several flush intervals', async () => {
      const run = await trigger('5'.repeat(40));
      const shipper = shipperFor(run.id, { flushMs: 10 });
      const idleSince = Date.now();
      await waitFor(async () => Date.now() - idleSince > 100 && (await logOf(run.id)).chunks.length === 0, {
        message: 'an idle stretch without output',
      });
      shipper.write('stdout', Buffer.from('late\n'));
      await waitFor(async () => (await logOf(run.id)).chunks.length === 1, {
        message: 'the late line was sent',
      });
      shipper.write('stdout', Buffer.from('later\n'));
      await shipper.finish();
      expect((await logOf(run.id)).chunks.map((c) => c.text)).to.deep.equal(['late\n', 'later\n']);
    });

    it('keeps characters whole across writes and cuts long output into chunks of at most 64 KiB', async () => {
      const run = await trigger('3'.repeat(40));
      const shipper = shipperFor(run.id, { bufferBytes: 1024 * 1024 });
      const euro = Buffer.from('€', 'utf8');
      shipper.write('stdout', euro.subarray(0, 1));
      shipper.write('stdout', euro.subarray(1));
      const long = 'ü'.repeat(100_000);
      shipper.write('stderr', Buffer.from(long, 'utf8'));
      await shipper.finish();

      const log = await logOf(run.id);
      expect(log.chunks[0]).to.include({ stream: 'stdout', text: '€' });
      expect(
        log.chunks
          .slice(1)
          .map((c) => c.text)
          .join(''),
      ).to.equal(long);
      for (const c of log.chunks) expect(Buffer.byteLength(c.text, 'utf8')).to.be.at.most(64 * 1024);
    });

    it('sends again with the same seqs while stack-trigger is unreachable: every line once, none lost', async () => {
      const run = await trigger('4'.repeat(40));
      const port = Number(new URL(api.url).port);
      const proxy = await createTcpProxy({ targetHost: '127.0.0.1', targetPort: port });
      const capture = createCapturingLogger();
      try {
        const shipper = shipperFor(run.id, {
          api: createRunsApi({ baseUrl: proxy.urlFor(api.url), runnerToken: RUNNER, timeoutMs: 300 }),
          logger: capture.logger,
          flushMs: 30,
          sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 50))),
        });
        shipper.write('stdout', Buffer.from('one\n'));
        await waitFor(async () => (await logOf(run.id)).chunks.length === 1, { message: 'line one' });
        await proxy.cut();
        const before = Date.now();
        for (const word of ['two', 'three', 'four']) shipper.write('stdout', Buffer.from(`${word}\n`));
        // Writing never waits on stack-trigger.
        expect(Date.now() - before).to.be.below(50);
        await waitFor(() => capture.lines.some((l) => l.message === 'run log not sent; will send it again'), {
          message: 'a send failed while stack-trigger was cut off',
        });
        await proxy.restore();
        await shipper.finish();
      } finally {
        await proxy.close();
      }
      const log = await logOf(run.id);
      expect(log.chunks.map((c) => c.text).join('')).to.equal('one\ntwo\nthree\nfour\n');
      expect(log.chunks.map((c) => c.seq)).to.deep.equal(log.chunks.map((_, i) => i));
    });
  });
});
