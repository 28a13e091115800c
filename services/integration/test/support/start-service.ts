import { join } from 'node:path';
import { Registry } from 'prom-client';
import { createBus, type Bus } from '@stacklink/bus';
import { INTEGRATION_EVENTS_EXCHANGE, integrationTopology } from '@stacklink/contracts';
import { startServer } from '@stacklink/http';
import { createSilentLogger, type Logger } from '@stacklink/logger';
import { deleteNamespace, RABBITMQ_URL, uniqueNamespace } from '@stacklink/testing';
import { createAesGcmSecretCipher } from '../../src/adapters/aes-gcm-secret-cipher';
import { createBitbucketClientFactory } from '../../src/adapters/bitbucket-client-factory';
import { createBusIntegrationEvents } from '../../src/adapters/bus-integration-events';
import { createHttpStackUsage, createHttpWebhookHealth } from '../../src/adapters/http-stack-usage';
import { createSqliteIntegrationRepository } from '../../src/adapters/sqlite/sqlite-integration-repository';
import { createApp } from '../../src/app';
import type { IntegrationEventsPort, IntegrationRepositoryPort } from '../../src/domain/ports';
import { createFakeClock, type FakeClock } from './fake-clock';
import { startFakeStackTrigger, type FakeStackTrigger } from './fake-stack-trigger';
import { newMasterKey } from './keys';
import { createTempDir } from './temp-dir';

export const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
export const INTERNAL_TOKEN = 'internal-token-for-tests-0123456789';
export const GATEWAY_TOKEN = 'gateway-token-for-tests-0123456789abcdef';
export const PUBLIC_WEBHOOK_BASE_URL = 'https://hooks.example.test';

export interface StartServiceOptions {
  /** A SQLite file path; a fresh temp file by default. */
  storePath?: string;
  masterKey?: string;
  previousMasterKeys?: string[];
  graceSeconds?: number;
  clock?: FakeClock;
  /** The real bus (RabbitMQ, unique namespace) unless given. */
  events?: IntegrationEventsPort;
  namespace?: string;
  logger?: Logger;
  bitbucketTimeoutMs?: number;
}

/** What `JSON.parse` gives: tests read answers freely and assert on them. */
type JsonBody = ReturnType<typeof JSON.parse>;

export interface ApiAnswer {
  status: number;
  body: JsonBody;
  text: string;
  headers: Headers;
}

export interface CallOptions {
  /** Bearer token; `null` sends no Authorization header. */
  token?: string | null;
  body?: unknown;
}

export interface RunningService {
  url: string;
  /** The express app as served, for the OpenAPI completeness check. */
  app: ReturnType<typeof createApp>;
  repository: IntegrationRepositoryPort;
  clock: FakeClock;
  registry: Registry;
  namespace: string;
  storePath: string;
  masterKey: string;
  stackTrigger: FakeStackTrigger;
  bus: Bus | undefined;
  /** The body of every answer received through `call`, for scanning. */
  responses: string[];
  call(method: string, path: string, options?: CallOptions): Promise<ApiAnswer>;
  admin(method: string, path: string, body?: unknown): Promise<ApiAnswer>;
  internal(method: string, path: string): Promise<ApiAnswer>;
  close(): Promise<void>;
}

/** Starts the real integration service in-process on port 0: SQLite file, RabbitMQ, real cipher. */
export async function startService(options: StartServiceOptions = {}): Promise<RunningService> {
  const temp = options.storePath === undefined ? createTempDir('svc') : undefined;
  const storePath = options.storePath ?? join(temp!.path, 'data', 'stacklink.db');
  const logger = options.logger ?? createSilentLogger();
  const namespace = options.namespace ?? uniqueNamespace('integration');
  const clock = options.clock ?? createFakeClock();
  const masterKey = options.masterKey ?? newMasterKey();
  const repository = createSqliteIntegrationRepository(storePath);
  const stackTrigger = await startFakeStackTrigger(INTERNAL_TOKEN);
  let bus: Bus | undefined;
  let events = options.events;
  if (events === undefined) {
    bus = createBus({ url: RABBITMQ_URL, logger, topology: integrationTopology, namespace });
    await bus.start();
    events = createBusIntegrationEvents(bus);
  }
  const registry = new Registry();
  const app = createApp({
    adminToken: ADMIN_TOKEN,
    internalToken: INTERNAL_TOKEN,
    gatewayToken: GATEWAY_TOKEN,
    publicWebhookBaseUrl: PUBLIC_WEBHOOK_BASE_URL,
    webhookSecretGraceSeconds: options.graceSeconds ?? 86_400,
    logger,
    repository,
    cipher: createAesGcmSecretCipher({ masterKey, previousMasterKeys: options.previousMasterKeys ?? [] }),
    events,
    webhookHealth: createHttpWebhookHealth({ baseUrl: stackTrigger.url, internalToken: INTERNAL_TOKEN }),
    stackUsage: createHttpStackUsage({
      baseUrl: stackTrigger.url,
      internalToken: INTERNAL_TOKEN,
      timeoutMs: 2000,
    }),
    bitbucket: createBitbucketClientFactory({ timeoutMs: options.bitbucketTimeoutMs ?? 3000 }),
    readiness: [
      { name: 'store', check: () => repository.isReady() },
      { name: 'rabbitmq', check: () => bus?.isReady() ?? true },
    ],
    clock,
    registry,
  });
  const server = await startServer(app, { port: 0, logger });
  const responses: string[] = [];

  const call = async (method: string, path: string, callOptions: CallOptions = {}): Promise<ApiAnswer> => {
    const headers: Record<string, string> = {};
    if (callOptions.token !== null && callOptions.token !== undefined) {
      headers.authorization = `Bearer ${callOptions.token}`;
    }
    let body: string | undefined;
    if (callOptions.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(callOptions.body);
    }
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    const text = await res.text();
    responses.push(text);
    let parsed: JsonBody;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed, text, headers: res.headers };
  };

  return {
    url: server.url,
    app,
    repository,
    clock,
    registry,
    namespace,
    storePath,
    masterKey,
    stackTrigger,
    bus,
    responses,
    call,
    admin: (method, path, body) => call(method, `/api/v1${path}`, { token: ADMIN_TOKEN, body }),
    internal: (method, path) => call(method, `/internal/v1${path}`, { token: INTERNAL_TOKEN }),
    async close() {
      await server.close(1000);
      await stackTrigger.close();
      if (bus) {
        await bus.close();
        await deleteNamespace({ namespace, amqpUrl: RABBITMQ_URL, exchanges: [INTEGRATION_EVENTS_EXCHANGE] });
      }
      await repository.close();
      temp?.remove();
    },
  };
}

/** A valid create body; each call gets a unique name. */
let counter = 0;
export function integrationInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  counter += 1;
  return {
    name: `bitbucket-${counter}-${Date.now().toString(36)}`,
    apiHost: 'https://bitbucket.internal.example.test/bitbucket/',
    userFacingHost: 'https://git.example.test/bitbucket',
    username: 'stacklink-bot',
    accessToken: `BBDC-tok${counter}-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`,
    description: 'main Bitbucket',
    labels: ['prod'],
    ...overrides,
  };
}
