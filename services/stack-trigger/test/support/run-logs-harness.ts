import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import type { LogChunk } from '@stacklink/contracts';
import { startServer, type RunningServer } from '@stacklink/http';
import { createSilentLogger } from '@stacklink/logger';
import { deleteNamespace, REDIS_URL, uniqueNamespace } from '@stacklink/testing';
import { createRedisRunActivity, type RedisRunActivity } from '../../src/adapters/redis-run-activity';
import { createRedisRunQueue } from '../../src/adapters/redis-run-queue';
import { openSqliteStore } from '../../src/adapters/sqlite/sqlite-store';
import type { Store } from '../../src/adapters/store';
import { createApp, type RunLogsDeps } from '../../src/app';
import type { Run } from '../../src/domain/model';
import { createEventStreams, type EventStreams } from '../../src/http/event-stream';
import { countingMetrics, recordingRunEvents } from './fakes';
import { stackInput } from './events';

export const ADMIN = 'admin-token-0123456789';
export const RUNNER = 'runner-token-0123456789abcdef-0123456';
const INTERNAL = 'internal-token-0123456789';

interface Replica {
  server: RunningServer;
  store: Store;
  redis: Redis;
  activity: RedisRunActivity;
  streams: EventStreams;
}

export type RunLogsOptions = Partial<
  Pick<RunLogsDeps, 'maxBytes' | 'graceSeconds' | 'pollMs' | 'heartbeatMs' | 'clock'>
>;

/**
 * Stack-trigger API replicas as in production, in-process on port 0: one SQLite file, one Redis
 * namespace, each replica with its own store handle, Redis connections and run-activity subscriber.
 */
export class RunLogsHarness {
  readonly replicas: Replica[] = [];
  readonly namespace = uniqueNamespace('run-logs');
  private readonly dir = mkdtempSync(join(tmpdir(), 'stack-trigger-run-logs-'));

  static async start(replicas: number, options: RunLogsOptions = {}): Promise<RunLogsHarness> {
    const harness = new RunLogsHarness();
    for (let i = 0; i < replicas; i++) await harness.addReplica(options);
    return harness;
  }

  get store(): Store {
    return this.replicas[0]!.store;
  }

  url(replica = 0): string {
    return this.replicas[replica]!.server.url;
  }

  private async addReplica(options: RunLogsOptions): Promise<void> {
    const logger = createSilentLogger();
    const store = openSqliteStore(join(this.dir, 'store.db'));
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    const activity = createRedisRunActivity({ redis, namespace: this.namespace, logger });
    await activity.start();
    const streams = createEventStreams();
    const app = createApp({
      adminToken: ADMIN,
      runnerTokens: [RUNNER],
      internalToken: INTERNAL,
      logger,
      stacks: store.stacks,
      runs: store.runs,
      queue: createRedisRunQueue({ redis, namespace: this.namespace, leaseSeconds: 60 }),
      integrations: { checkRepository: async () => 'ok' },
      runEvents: recordingRunEvents(),
      metrics: countingMetrics(),
      runLogs: {
        logs: store.logs,
        activity,
        streams,
        maxBytes: options.maxBytes ?? 5 * 1024 * 1024,
        graceSeconds: options.graceSeconds ?? 60,
        pollMs: options.pollMs ?? 60_000,
        heartbeatMs: options.heartbeatMs ?? 60_000,
        ...(options.clock ? { clock: options.clock } : {}),
      },
    });
    const server = await startServer(app, { port: 0, logger, shutdownTimeoutMs: 1000 });
    this.replicas.push({ server, store, redis, activity, streams });
  }

  /** A QUEUED run of a new stack. */
  async newRun(): Promise<Run> {
    const stack = await this.store.stacks.create(
      stackInput({ name: `s-${Math.random().toString(16).slice(2)}` }),
    );
    const created = await this.store.runs.create({
      stackId: stack.id,
      type: 'tracked',
      commit: 'a'.repeat(40),
      ref: 'refs/heads/main',
      trigger: { kind: 'push', eventId: 'e-1', deliveryId: 'd-1' },
    });
    return created.run;
  }

  /** `${replica}/api/v1${path}` with a bearer token (ADMIN by default); the status and parsed body. */
  async call<T = Answer>(
    method: string,
    path: string,
    body?: unknown,
    options: { token?: string | null; replica?: number } = {},
  ): Promise<{ status: number; body: T }> {
    const token = options.token === undefined ? ADMIN : options.token;
    const res = await fetch(`${this.url(options.replica)}/api/v1${path}`, {
      method,
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as T };
  }

  /** A runner's POST of chunks. */
  postChunks(runId: string, chunks: LogChunk[], replica = 0) {
    return this.call('POST', `/runs/${runId}/logs`, { chunks }, { token: RUNNER, replica });
  }

  /** A runner's state report. */
  report(runId: string, state: 'RUNNING' | 'FINISHED' | 'FAILED', replica = 0) {
    return this.call('POST', `/runs/${runId}/state`, { state }, { token: RUNNER, replica });
  }

  async close(): Promise<void> {
    for (const r of this.replicas) {
      r.streams.closeAll();
      await r.server.close();
      r.activity.close();
      r.redis.disconnect();
      await r.store.close();
    }
    await deleteNamespace({ namespace: this.namespace, redisUrl: REDIS_URL });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The JSON answers the tests read; fields absent from an answer are undefined. */
export interface Answer {
  error?: { code: string; message: string; details?: { fields?: { field: string; message: string }[] } };
  [field: string]: unknown;
}

export const at = (second: number): string => new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString();

export const line = (
  seq: number,
  text = `line ${seq}\n`,
  stream: LogChunk['stream'] = 'stdout',
): LogChunk => ({
  seq,
  stream,
  text,
  at: at(seq % 60),
});
