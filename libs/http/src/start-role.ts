import type { RequestListener } from 'node:http';
import type { Logger } from '@stacklink/logger';
import { createHttpApp, type ReadinessCheck } from './create-http-app';
import { startServer, type RunningServer } from './start-server';

/** Something a role holds open (a store, Redis, the broker): started in list order, closed in reverse. */
export interface RoleConnection {
  /** Its name in /readyz: `rabbitmq`, `redis`, `store`. */
  name: string;
  /** Connects; absent for what is already open when the role lists it (an opened store, ioredis). */
  start?(): Promise<void>;
  close(): Promise<void> | void;
  /** Part of /readyz when present. */
  ready?(): boolean | Promise<boolean>;
  /** false: the role still works without it — degraded, not unready (see ReadinessCheck). */
  critical?: boolean;
}

/** What takes work besides HTTP: a queue consumer or a timer. Cancelling lets work in flight finish. */
export interface RoleWorker {
  cancel(): Promise<void> | void;
}

export interface StartRoleOptions {
  /** The process's name in logs and in the probe server's metrics, e.g. `stack-trigger-trigger`. */
  service: string;
  listen: { port: number; host: string; shutdownTimeoutMs?: number };
  logger: Logger;
  connections: RoleConnection[];
  /** /readyz checks; by default those of the connections. */
  readiness?: ReadinessCheck[];
  /** Runs once every connection is up, before the role serves or consumes (e.g. rebuilding a cache). */
  prepare?: () => Promise<unknown>;
  /** Started once the server listens; cancelled first at stop. */
  consumers?: (() => Promise<RoleWorker>)[];
  /** The role's own app, given the readiness checks; without it, a server of /healthz, /readyz, /metrics. */
  http?: (readiness: ReadinessCheck[]) => RequestListener;
}

export interface RunningRole {
  url: string;
  port: number;
  server: RunningServer;
  logger: Logger;
  /** Graceful and idempotent: consumers, then the server, then the connections in reverse order. */
  stop(): Promise<void>;
}

/** Readiness, start and stop of a Redis client (ioredis) the role created. */
export function redisConnection(redis: { status: string; disconnect(): void }): RoleConnection {
  return { name: 'redis', ready: () => redis.status === 'ready', close: () => redis.disconnect() };
}

/** Readiness, start and stop of the bus (@stacklink/bus). */
export function busConnection(bus: {
  start(): Promise<void>;
  close(): Promise<void>;
  isReady(): boolean;
}): RoleConnection {
  return { name: 'rabbitmq', start: () => bus.start(), ready: () => bus.isReady(), close: () => bus.close() };
}

/** Readiness and stop of an opened store. */
export function storeConnection(store: {
  ping(): boolean | Promise<boolean>;
  close(): Promise<void> | void;
}): RoleConnection {
  return { name: 'store', ready: () => store.ping(), close: () => store.close() };
}

/**
 * What every role does around its wiring (docs/architecture.md "Inside a service"): start the connections
 * in order, prepare, listen on PORT (the role's app, or probes and metrics), start the consumers. A failed
 * start undoes what had started, in reverse. `runMain` adds the configuration and the process signals.
 */
export async function startRole(options: StartRoleOptions): Promise<RunningRole> {
  const { logger } = options;
  const undo: (() => Promise<void> | void)[] = [];
  const unwind = async () => {
    for (const step of undo.splice(0).reverse()) {
      await Promise.resolve()
        .then(step)
        .catch((err: unknown) => logger.warn('stop step failed', { err }));
    }
  };
  let server: RunningServer;
  try {
    for (const connection of options.connections) {
      await connection.start?.();
      undo.push(() => connection.close());
    }
    await options.prepare?.();
    const readiness =
      options.readiness ??
      options.connections.flatMap((c) =>
        c.ready === undefined
          ? []
          : [
              {
                name: c.name,
                check: () => c.ready!(),
                ...(c.critical === undefined ? {} : { critical: c.critical }),
              },
            ],
      );
    const app =
      options.http?.(readiness) ??
      createHttpApp({ service: options.service, logger, readiness }, () => undefined);
    server = await startServer(app, { ...options.listen, logger });
    undo.push(() => server.close());
    for (const consume of options.consumers ?? []) {
      const consumer = await consume();
      undo.push(() => consumer.cancel());
    }
  } catch (err) {
    await unwind();
    throw err;
  }
  logger.info('started', { service: options.service, url: server.url, port: server.port });
  let stopping: Promise<void> | undefined;
  const stop = async () => {
    // In order, not in parallel: consumers finish what they hold before the connections they use close.
    for (const step of undo.splice(0).reverse()) await step();
  };
  return {
    url: server.url,
    port: server.port,
    server,
    logger,
    stop: () => (stopping ??= stop()),
  };
}
