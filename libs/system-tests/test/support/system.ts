import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import amqp from 'amqplib';
import { startSimulator, type BitbucketSimulator, type RecordedStatus } from '@stacklink/bitbucket-simulator';
import { deadLetterQueueName, topologyNames } from '@stacklink/bus';
import {
  gatewayTopology,
  integrationTopology,
  RUNS_READY_QUEUE,
  STATUS_UPDATES_QUEUE,
  VCS_EVENTS_QUEUE,
  stackTriggerTopology,
  stackTriggerTopologyWith,
} from '@stacklink/contracts';
import type { Run, Stack } from '@stacklink/stack-trigger';
import {
  createTcpProxy,
  deleteNamespace,
  RABBITMQ_URL,
  REDIS_URL,
  uniqueNamespace,
  waitFor,
  type TcpProxy,
} from '@stacklink/testing';
import { RoleProcess, type Role } from './role-process';
import { startRoundRobinForwarder, type RoundRobinForwarder } from './round-robin-forwarder';

export type { Run, Stack };

export const SIM_USER = 'stacklink';
export const SIM_TOKEN = 'e2e-token-not-secret';

export interface SystemOptions {
  label: string;
  gateways?: number;
  triggers?: number;
  reporters?: number;
  /** Reconciler replicas (managed webhooks, missed-event recovery); none unless asked for. */
  reconcilers?: number;
  /** Start the runner with the others (default), or leave it for `startRunner()`. */
  startRunner?: boolean;
  runnerCommand?: string;
  /** Start the web console too (docs/architecture.md §15); PUBLIC_UI_URL then points at it. */
  console?: boolean;
  /** Extra variables per role, e.g. `{runner: {RUNNER_CONCURRENCY: '4'}}`. */
  env?: Partial<Record<Role, Record<string, string>>>;
}

export interface QueueDepths {
  [queue: string]: number;
}

/** The queues that carry work, by logical name (each has a dead-letter queue beside it). */
const WORK_QUEUES = [VCS_EVENTS_QUEUE, STATUS_UPDATES_QUEUE, RUNS_READY_QUEUE];

/**
 * Every Stacklink role as its own OS process on one machine (docs/architecture.md §2, §10), like `make up`,
 * in a namespace of its own on the loopback RabbitMQ and Redis, with a temporary SQLite store: the
 * integration service, the stack-trigger API, N gateways behind a round-robin forwarder (the load
 * balancer), N trigger workers, N reporters and the reference runner. The Bitbucket simulator runs
 * in-process as Bitbucket. The gateways reach RabbitMQ through a TCP proxy so a test can cut them off.
 */
export class System {
  readonly namespace: string;
  readonly adminToken = randomBytes(24).toString('hex');
  readonly internalToken = randomBytes(24).toString('hex');
  /** The runner's token (one of the API's RUNNER_TOKENS): state and lease routes only. */
  readonly runnerToken = randomBytes(24).toString('hex');
  /** A second runner token the API accepts, held by no process: for tests acting as another runner. */
  readonly spareRunnerToken = randomBytes(24).toString('hex');
  /** The gateways' token: reads webhook secrets from the integration service, nothing else. */
  readonly gatewayToken = randomBytes(24).toString('hex');
  readonly masterKey = randomBytes(32).toString('base64');
  readonly dir: string;
  readonly processes: RoleProcess[] = [];
  sim!: BitbucketSimulator;
  forwarder!: RoundRobinForwarder;
  /** Between the gateways and RabbitMQ. */
  brokerProxy!: TcpProxy;
  integration!: RoleProcess;
  api!: RoleProcess;
  gateways: RoleProcess[] = [];
  triggers: RoleProcess[] = [];
  reporters: RoleProcess[] = [];
  reconcilers: RoleProcess[] = [];
  runner!: RoleProcess;
  /** The web console, when the options asked for it. */
  console: RoleProcess | undefined;

  private constructor(private readonly options: SystemOptions) {
    this.namespace = uniqueNamespace(options.label);
    this.dir = mkdtempSync(path.join(tmpdir(), `stacklink-e2e-${options.label}-`));
  }

  static async start(options: SystemOptions): Promise<System> {
    const system = new System(options);
    try {
      await system.boot();
    } catch (err) {
      await system.close().catch(() => undefined);
      throw err;
    }
    return system;
  }

  private async boot(): Promise<void> {
    const o = this.options;
    this.sim = await startSimulator({ pageSize: 100 });
    this.sim.addUser({ name: SIM_USER, token: SIM_TOKEN, permission: 'admin', displayName: 'Stacklink' });
    this.brokerProxy = await createTcpProxy({ targetHost: '127.0.0.1', targetPort: 5672 });
    this.forwarder = await startRoundRobinForwarder(() => this.gateways.map((g) => g.url));

    const ports = {
      integration: await freePort(),
      api: await freePort(),
      console: await freePort(),
    };
    const integrationUrl = `http://127.0.0.1:${ports.integration}`;
    const apiUrl = `http://127.0.0.1:${ports.api}`;
    const common = {
      RABBITMQ_URL,
      REDIS_URL,
      NAMESPACE: this.namespace,
      LOG_LEVEL: 'info',
      STORE_URL: `sqlite:${path.join(this.dir, 'stacklink.db')}`,
      INTEGRATION_URL: integrationUrl,
      STACK_TRIGGER_URL: apiUrl,
      PUBLIC_WEBHOOK_BASE_URL: this.forwarder.url,
      // Commit statuses link to the run page: the console's when it runs (docs/architecture.md §15).
      PUBLIC_UI_URL: o.console ? `http://127.0.0.1:${ports.console}` : apiUrl,
      // Short leases so a run handed out by a worker that died before announcing it is handed out
      // again within the test, not after the default 15 minutes (docs/decisions/004).
      RUN_LEASE_SECONDS: '10',
      LEASE_SWEEP_INTERVAL_MS: '1000',
    };
    // Each role gets only its own tokens (docs/architecture.md §12).
    const tokens: Record<Role, Record<string, string>> = {
      integration: {
        ADMIN_TOKEN: this.adminToken,
        INTERNAL_TOKEN: this.internalToken,
        GATEWAY_TOKEN: this.gatewayToken,
        MASTER_KEY: this.masterKey,
      },
      'stack-trigger': {
        ADMIN_TOKEN: this.adminToken,
        INTERNAL_TOKEN: this.internalToken,
        RUNNER_TOKENS: `${this.runnerToken},${this.spareRunnerToken}`,
      },
      gateway: { GATEWAY_TOKEN: this.gatewayToken },
      trigger: { INTERNAL_TOKEN: this.internalToken },
      reporter: { INTERNAL_TOKEN: this.internalToken },
      reconciler: { INTERNAL_TOKEN: this.internalToken },
      runner: { RUNNER_TOKEN: this.runnerToken },
      console: { ADMIN_TOKEN: this.adminToken, INTERNAL_TOKEN: this.internalToken },
    };
    const add = async (role: Role, name: string, env: Record<string, string>, port?: number) => {
      const p = new RoleProcess(
        name,
        role,
        port ?? (await freePort()),
        { ...common, ...tokens[role], ...env, ...(o.env?.[role] ?? {}) },
        this.dir,
      );
      this.processes.push(p);
      return p;
    };
    // Start order: the API asserts the stack-trigger topology, so the gateways' mandatory publishes
    // to `vcs.events` have a queue to land in from the first webhook on.
    this.integration = await add(
      'integration',
      'integration',
      { PORT: String(ports.integration) },
      ports.integration,
    );
    await this.integration.start();
    this.api = await add('stack-trigger', 'stack-trigger', { PORT: String(ports.api) }, ports.api);
    await this.api.start();
    if (o.console) {
      this.console = await add('console', 'console', { PORT: String(ports.console) }, ports.console);
      await this.console.start();
    }
    for (let i = 1; i <= (o.gateways ?? 2); i++) {
      const port = await freePort();
      this.gateways.push(
        await add(
          'gateway',
          `gateway-${i}`,
          {
            PORT: String(port),
            HOST: '127.0.0.1',
            RABBITMQ_URL: this.brokerProxy.urlFor(RABBITMQ_URL),
            PUBLISH_TIMEOUT_MS: '2000',
          },
          port,
        ),
      );
    }
    for (let i = 1; i <= (o.triggers ?? 2); i++) {
      const port = await freePort();
      this.triggers.push(
        await add(
          'trigger',
          `trigger-${i}`,
          {
            // Its probe and metrics port (scripts/up.sh passes TRIGGER_METRICS_PORT as PORT).
            PORT: String(port),
            BITBUCKET_TIMEOUT_MS: '3000',
            SHUTDOWN_TIMEOUT_MS: '3000',
          },
          port,
        ),
      );
    }
    for (let i = 1; i <= (o.reporters ?? 2); i++) {
      const port = await freePort();
      this.reporters.push(
        await add(
          'reporter',
          `reporter-${i}`,
          {
            PORT: String(port),
            // The simulator has no rate limit; the reporter's is not what these tests are about.
            REPORTER_RATE_PER_SECOND: '2000',
            REPORTER_RATE_BURST: '200',
            REPORTER_MAX_WAIT_MS: '2000',
            BITBUCKET_TIMEOUT_MS: '2000',
            // A reporter killed while posting holds its claim on that run this long (default 60 s).
            REPORTER_CLAIM_TTL_MS: '5000',
          },
          port,
        ),
      );
    }
    for (let i = 1; i <= (o.reconcilers ?? 0); i++) {
      const port = await freePort();
      this.reconcilers.push(
        await add(
          'reconciler',
          `reconciler-${i}`,
          {
            PORT: String(port),
            REPORTER_RATE_PER_SECOND: '2000',
            REPORTER_RATE_BURST: '200',
            BITBUCKET_TIMEOUT_MS: '3000',
          },
          port,
        ),
      );
    }
    const runnerPort = await freePort();
    this.runner = await add(
      'runner',
      'runner',
      {
        PORT: String(runnerPort),
        RUNNER_COMMAND: o.runnerCommand ?? 'true',
        RUNNER_CONCURRENCY: '8',
        LEASE_RENEW_SECONDS: '2',
      },
      runnerPort,
    );
    await Promise.all(
      [...this.gateways, ...this.triggers, ...this.reporters, ...this.reconcilers].map((p) => p.start()),
    );
    if (o.startRunner ?? true) await this.runner.start();
  }

  startRunner(): Promise<void> {
    return this.runner.start();
  }

  /** `${API}/api/v1/...` with the admin token; throws with the body on an unexpected status. */
  async call<T>(
    base: RoleProcess,
    method: string,
    urlPath: string,
    body?: unknown,
    expected: number[] = [200, 201, 204],
  ): Promise<T> {
    const res = await fetch(`${base.url}${urlPath}`, {
      method,
      headers: {
        authorization: `Bearer ${this.adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!expected.includes(res.status)) throw new Error(`${method} ${urlPath} → ${res.status}: ${text}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  /** POST /api/v1/integrations with the simulator as Bitbucket (API host and user-facing host). */
  createIntegration(name = `bitbucket-${this.namespace}`) {
    return this.call<{ id: string; webhook: { endpoint: string; secret: string } }>(
      this.integration,
      'POST',
      '/api/v1/integrations',
      {
        name,
        apiHost: this.sim.url,
        userFacingHost: this.sim.url,
        username: SIM_USER,
        accessToken: SIM_TOKEN,
      },
    );
  }

  createStack(input: Record<string, unknown>): Promise<Stack> {
    return this.call<Stack>(this.api, 'POST', '/api/v1/stacks', input);
  }

  async runsOf(stackId: string): Promise<Run[]> {
    return (await this.call<{ runs: Run[] }>(this.api, 'GET', `/api/v1/stacks/${stackId}/runs?limit=1000`))
      .runs;
  }

  /** Statuses the simulator recorded for one stack's key, per commit, in the order they arrived. */
  statusesOf(stackId: string): Map<string, RecordedStatus[]> {
    const byCommit = new Map<string, RecordedStatus[]>();
    for (const s of this.sim.recorded.statuses) {
      if (s.key !== `stacklink/${stackId}`) continue;
      byCommit.set(s.commit, [...(byCommit.get(s.commit) ?? []), s]);
    }
    return byCommit;
  }

  /** Sum of a Prometheus counter or histogram count over some processes' /metrics. */
  async metricSum(processes: RoleProcess[], series: RegExp): Promise<number> {
    let total = 0;
    for (const p of processes) {
      const text = await (await fetch(`${p.url}/metrics`)).text();
      for (const line of text.split('\n')) {
        const match = series.exec(line);
        if (match && !line.startsWith('#')) total += Number(line.slice(line.lastIndexOf(' ') + 1));
      }
    }
    return total;
  }

  /** Canonical events the trigger workers finished handling (acked or not) since they started. */
  eventsHandled(): Promise<number> {
    return this.metricSum(
      this.triggers.filter((t) => t.running),
      /^stacklink_bus_handler_duration_seconds_count\{queue="stack-trigger\.vcs-events"/,
    );
  }

  /** Ready messages in the work queues and their dead-letter queues (checkQueue, per physical name). */
  async queueDepths(): Promise<QueueDepths> {
    return this.withChannel((channel) =>
      this.depthsOf(channel, [...WORK_QUEUES, ...WORK_QUEUES.map(deadLetterQueueName)]),
    );
  }

  private async withChannel<T>(use: (channel: amqp.Channel) => Promise<T>): Promise<T> {
    const connection = await amqp.connect(RABBITMQ_URL);
    try {
      return await use(await connection.createChannel());
    } finally {
      await connection.close().catch(() => undefined);
    }
  }

  private async depthsOf(channel: amqp.Channel, names: string[]): Promise<QueueDepths> {
    const depths: QueueDepths = {};
    for (const name of names) {
      depths[name] = (await channel.checkQueue(`${this.namespace}.${name}`)).messageCount;
    }
    return depths;
  }

  /**
   * Waits until no work queue has had a message waiting for `quietMs` on end (or `timeoutMs` passed: the
   * depth check that follows then says what is left). A run's last commit status can be posted while an
   * older update of the same run is still on its way (two reporters, redeliveries after a crash); the
   * reporter then skips it as stale, but stopping in that moment hands it back to its queue. A depth
   * check after stopping is only meaningful once the system has settled.
   */
  async settle(options: { quietMs: number; timeoutMs: number }): Promise<void> {
    const deadline = Date.now() + options.timeoutMs;
    let quietSince = Date.now();
    await this.withChannel(async (channel) => {
      while (Date.now() < deadline) {
        const depths = await this.depthsOf(channel, WORK_QUEUES);
        if (Object.values(depths).some((depth) => depth > 0)) quietSince = Date.now();
        else if (Date.now() - quietSince >= options.quietMs) return;
        await sleep(100);
      }
    });
  }

  /** Waits until every run of the stacks is in one of `states`; returns them by stack. */
  async waitForRuns(
    stackIds: string[],
    done: (runs: Run[]) => boolean,
    options: { timeoutMs: number; message: string },
  ): Promise<Map<string, Run[]>> {
    return waitFor(
      async () => {
        const all = new Map<string, Run[]>();
        for (const id of stackIds) all.set(id, await this.runsOf(id));
        return done([...all.values()].flat()) ? all : undefined;
      },
      { ...options, intervalMs: 250 },
    );
  }

  /** The last lines of every process, for a failing test's report. */
  tails(lines = 15): string {
    return this.processes.map((p) => p.tail(lines)).join('\n');
  }

  /** SIGTERM to every process (SIGKILL after the grace period), in reverse start order. */
  async stopAll(): Promise<void> {
    await Promise.all(
      [this.runner, ...this.gateways, ...this.triggers, ...this.reporters, ...this.reconcilers]
        .filter((p) => p !== undefined)
        .map((p) => p.stop()),
    );
    await this.console?.stop();
    await this.api?.stop();
    await this.integration?.stop();
  }

  /** Stops everything and deletes the namespace: queues, exchanges and Redis keys; removes the store. */
  async close(): Promise<void> {
    await this.stopAll().catch(() => undefined);
    await this.forwarder?.close().catch(() => undefined);
    await this.brokerProxy?.close().catch(() => undefined);
    await this.sim?.close().catch(() => undefined);
    const units = Object.values(this.options.env ?? {}).flatMap((env) =>
      env?.RETRY_TIME_UNIT_MS === undefined ? [] : [Number(env.RETRY_TIME_UNIT_MS)],
    );
    await deleteSystemNamespace(this.namespace, units);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Deletes what every role declared under `namespace` (queues, exchanges) and its Redis keys.
 * `retryTimeUnitsMs`: the RETRY_TIME_UNIT_MS values the roles ran with (their delay queues are named
 * by delay; 1000 is always included).
 */
export async function deleteSystemNamespace(
  namespace: string,
  retryTimeUnitsMs: number[] = [],
): Promise<void> {
  const scaled = [...new Set([1000, ...retryTimeUnitsMs])].map((retryTimeUnitMs) =>
    stackTriggerTopologyWith({ retryTimeUnitMs }),
  );
  await deleteNamespace({
    namespace,
    amqpUrl: RABBITMQ_URL,
    redisUrl: REDIS_URL,
    topologies: [stackTriggerTopology, ...scaled, integrationTopology, gatewayTopology('x')].map(
      topologyNames,
    ),
  });
}
