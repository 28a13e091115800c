import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import Redis from 'ioredis';
import { createBus, topologyNames, type Bus } from '@stacklink/bus';
import { stackTriggerTopology } from '@stacklink/contracts';
import { startServer, type RunningServer } from '@stacklink/http';
import { createCapturingLogger, createSilentLogger } from '@stacklink/logger';
import { deleteNamespace, RABBITMQ_URL, REDIS_URL, uniqueNamespace, waitFor } from '@stacklink/testing';
import {
  createApp,
  createBusRunEvents,
  createRedisRunQueue,
  openSqliteStore,
  type Run,
  type Store,
} from '@stacklink/stack-trigger';
import { loadRunnerConfig } from '../../src/config';
import type { RunningRole } from '@stacklink/http';
import { startRunner } from '../../src/roles/runner';

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
    await api.close();
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
});
