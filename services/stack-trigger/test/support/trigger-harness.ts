import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator, type BitbucketSimulator, type Delivery } from '@stacklink/bitbucket-simulator';
import { createBus, topologyNames, type Bus, type IncomingMessage } from '@stacklink/bus';
import { normalize, toBusMessage, type CanonicalEvent } from '@stacklink/events';
import { loadIntegrationConfig, startIntegrationService } from '@stacklink/integration';
import { createSilentLogger } from '@stacklink/logger';
import { deleteNamespace, RABBITMQ_URL, REDIS_URL, uniqueNamespace, waitFor } from '@stacklink/testing';
import { loadGatewayConfig, startGateway } from '@stacklink/webhook-gateway';
import { openSqliteStore } from '../../src/adapters/sqlite/sqlite-store';
import type { Store } from '../../src/adapters/store';
import type { NewStack, Stack } from '../../src/domain/model';
import {
  gatewayTopology,
  integrationTopology,
  RUNS_READY_QUEUE,
  STATUS_UPDATES_QUEUE,
  stackTriggerTopology,
  type RunMessage,
} from '@stacklink/contracts';
import { loadTriggerConfig, type TriggerConfig } from '../../src/config';
import type { RunningRole } from '@stacklink/http';
import { startTriggerWorker } from '../../src/roles/trigger';
import { stackInput } from './events';

export const ADMIN_TOKEN = 'admin-token-for-trigger-tests-0123';
export const INTERNAL_TOKEN = 'internal-token-for-trigger-tests-0123';
export const GATEWAY_TOKEN = 'gateway-token-for-trigger-tests-0123456789';
const SIM_TOKEN = 'sim-token-for-trigger-tests';
export const PROJECT = 'PRJ';

export interface ObservedRunMessage {
  routingKey: string;
  messageId: string | undefined;
  headers: Record<string, unknown>;
  body: RunMessage;
}

/**
 * Everything a trigger worker talks to, real and in-process, under one namespace: RabbitMQ and Redis on
 * loopback, the Bitbucket simulator, the integration service (SQLite, real cipher, real bus) holding an
 * integration that points at the simulator, and the webhook gateway receiving the simulator's webhooks.
 * An observer consumes the `runs` exchange's queues and records every message.
 */
export interface TriggerHarness {
  namespace: string;
  sim: BitbucketSimulator;
  integrationId: string;
  /** Our own connection to the SQLite file the workers use. */
  store: Store;
  storeUrl: string;
  integrationUrl: string;
  bus: Bus;
  runMessages: ObservedRunMessage[];
  /** A fresh repository in the simulator, so tests never see each other's stacks. */
  addRepository(): string;
  addStack(slug: string, overrides?: Partial<NewStack>): Promise<Stack>;
  triggerConfig(overrides?: Record<string, string>): TriggerConfig;
  startWorker(overrides?: Record<string, string>): Promise<RunningRole>;
  /** Where scenarios deliver their webhooks: the real gateway, or a sink that only answers 200. */
  deliverTo(target: 'gateway' | 'sink'): void;
  /** Publishes the canonical event of a simulator delivery straight onto `vcs.events`. */
  publishDelivery(delivery: Delivery): Promise<CanonicalEvent>;
  publishEvent(event: CanonicalEvent): Promise<void>;
  messagesFor(runId: string, routingKey?: string): ObservedRunMessage[];
  stopWorkers(): Promise<void>;
  close(): Promise<void>;
}

export async function startTriggerHarness(options: { pageSize?: number } = {}): Promise<TriggerHarness> {
  const logger = createSilentLogger();
  const namespace = uniqueNamespace('trigger');
  const dir = mkdtempSync(join(tmpdir(), 'stack-trigger-worker-'));
  const storeUrl = `sqlite:${join(dir, 'stacklink.db')}`;
  const cleanups: (() => Promise<unknown>)[] = [];
  const workers: RunningRole[] = [];

  // The observer asserts the stack-trigger topology first, so the gateway's mandatory publishes route.
  const bus = createBus({ url: RABBITMQ_URL, logger, topology: stackTriggerTopology, namespace });
  await bus.start();
  cleanups.push(() => bus.close());
  const runMessages: ObservedRunMessage[] = [];
  const record = async (m: IncomingMessage) => {
    runMessages.push({
      routingKey: m.routingKey,
      messageId: m.messageId,
      headers: m.headers,
      body: m.body as RunMessage,
    });
  };
  await bus.consume(STATUS_UPDATES_QUEUE, record);
  await bus.consume(RUNS_READY_QUEUE, record);

  const sim = await startSimulator({ pageSize: options.pageSize ?? 3 });
  cleanups.push(() => sim.close());
  sim.addUser({ name: 'ci', token: SIM_TOKEN, permission: 'admin' });

  // The real integration service, started exactly as its main.ts starts it.
  const integrationServer = await startIntegrationService(
    loadIntegrationConfig({
      PORT: '0',
      STORE_URL: `sqlite:${join(dir, 'integration.db')}`,
      ADMIN_TOKEN,
      INTERNAL_TOKEN,
      GATEWAY_TOKEN,
      MASTER_KEY: randomBytes(32).toString('base64'),
      RABBITMQ_URL,
      NAMESPACE: namespace,
      STACK_TRIGGER_URL: 'http://127.0.0.1:9',
      WEBHOOK_SECRET_GRACE_SECONDS: '3600',
      BITBUCKET_TIMEOUT_MS: '3000',
    }),
    { logger },
  );
  cleanups.push(() => integrationServer.stop());
  const created = await fetch(`${integrationServer.url}/api/v1/integrations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: `sim-${namespace}`,
      apiHost: sim.url,
      userFacingHost: sim.url,
      username: 'ci',
      accessToken: SIM_TOKEN,
    }),
  });
  if (created.status !== 201) throw new Error(`creating the integration failed: ${await created.text()}`);
  const integration = (await created.json()) as { id: string; webhook: { secret: string } };

  const gateway = await startGateway(
    loadGatewayConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      RABBITMQ_URL,
      REDIS_URL,
      GATEWAY_TOKEN,
      LOG_LEVEL: 'error',
      NAMESPACE: namespace,
      INTEGRATION_URL: integrationServer.url,
    }),
  );
  cleanups.push(() => gateway.stop());
  const gatewayTarget = {
    url: `${gateway.server.url}/webhooks/bitbucket-dc/${integration.id}`,
    secret: integration.webhook.secret,
  };
  const sink: Server = createServer((_req, res) => res.writeHead(200).end());
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => sink.close(() => resolve())));
  const sinkTarget = { url: `http://127.0.0.1:${(sink.address() as AddressInfo).port}/` };
  sim.setWebhookDelivery(gatewayTarget);

  const store = openSqliteStore(storeUrl.slice('sqlite:'.length));
  let repoCounter = 0;

  const harness: TriggerHarness = {
    namespace,
    sim,
    integrationId: integration.id,
    store,
    storeUrl,
    integrationUrl: integrationServer.url,
    bus,
    runMessages,
    addRepository() {
      repoCounter += 1;
      const slug = `infra-${repoCounter}`;
      sim.addRepository({ project: PROJECT, slug, files: ['README.md'] });
      return slug;
    },
    addStack(slug, overrides = {}) {
      return store.stacks.create(
        stackInput({
          name: `stack-${slug}-${randomBytes(4).toString('hex')}`,
          integrationId: integration.id,
          repository: { projectKey: PROJECT, slug },
          projectRoot: 'stacks/app',
          ...overrides,
        }),
      );
    },
    triggerConfig(overrides = {}) {
      return loadTriggerConfig({
        PORT: '0',
        STORE_URL: storeUrl,
        REDIS_URL,
        RABBITMQ_URL,
        INTERNAL_TOKEN,
        INTEGRATION_URL: integrationServer.url,
        NAMESPACE: namespace,
        LOG_LEVEL: 'error',
        BITBUCKET_TIMEOUT_MS: '3000',
        SHUTDOWN_TIMEOUT_MS: '3000',
        ...overrides,
      });
    },
    async startWorker(overrides = {}) {
      const worker = await startTriggerWorker(harness.triggerConfig(overrides), { logger });
      workers.push(worker);
      return worker;
    },
    deliverTo(target) {
      sim.setWebhookDelivery(target === 'gateway' ? gatewayTarget : sinkTarget);
    },
    async publishDelivery(delivery) {
      const result = normalize({
        eventKey: delivery.eventKey,
        deliveryId: delivery.requestId,
        integrationId: integration.id,
        receivedAt: new Date(),
        body: JSON.parse(delivery.body),
      });
      if (result.kind !== 'event')
        throw new Error(`delivery ${delivery.eventKey} was ignored: ${result.reason}`);
      await harness.publishEvent(result.event);
      return result.event;
    },
    async publishEvent(event) {
      const m = toBusMessage(event);
      await bus.publish(m.exchange, m.routingKey, m.body, {
        messageId: m.messageId,
        headers: { ...m.headers },
      });
    },
    messagesFor(runId, routingKey) {
      return runMessages.filter(
        (m) => m.body.runId === runId && (routingKey === undefined || m.routingKey === routingKey),
      );
    },
    async stopWorkers() {
      for (const worker of workers.splice(0)) await worker.stop();
    },
    async close() {
      await harness.stopWorkers();
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
      await store.close();
      await deleteNamespace({
        namespace,
        amqpUrl: RABBITMQ_URL,
        redisUrl: REDIS_URL,
        topologies: [stackTriggerTopology, integrationTopology, gatewayTopology('x')].map(topologyNames),
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** Waits until the store holds `count` runs of the stack, and returns them. */
export async function waitForRuns(
  harness: TriggerHarness,
  stackId: string,
  count: number,
  timeoutMs = 10_000,
) {
  return waitFor(
    async () => {
      const runs = await harness.store.runs.listByStack(stackId);
      return runs.length === count ? runs : undefined;
    },
    { timeoutMs, message: `stack ${stackId} did not get ${count} run(s)` },
  );
}
