import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import amqp from 'amqplib';
import { topologyNames } from '@stacklink/bus';
import { gatewayTopology } from '@stacklink/contracts';
import { sign } from '@stacklink/bitbucket';
import { createCapturingLogger, createSilentLogger, type Logger } from '@stacklink/logger';
import { loadIntegrationConfig, startIntegrationService } from '@stacklink/integration';
import {
  createTcpProxy,
  deleteNamespace,
  RABBITMQ_URL,
  REDIS_URL,
  uniqueNamespace,
  type TcpProxy,
} from '@stacklink/testing';
import { loadGatewayConfig, type GatewayConfig } from '../../src/config';
import { startGateway } from '../../src/roles/gateway';

export type Gateway = Awaited<ReturnType<typeof startGateway>>;
type Integration = Awaited<ReturnType<typeof startIntegrationService>>;

export interface Published {
  messageId: string | undefined;
  routingKey: string;
  headers: Record<string, unknown>;
  body: Record<string, unknown>;
}

/**
 * The real pieces of a gateway test: the integration service in-process on its own SQLite file, a
 * gateway in front of it, a namespace of their own on the real broker and Redis, and a probe queue
 * bound to `vcs.events` that records what was published.
 */
export class GatewayHarness {
  readonly namespace = uniqueNamespace('gw');
  readonly adminToken = randomBytes(24).toString('hex');
  readonly internalToken = randomBytes(24).toString('hex');
  readonly gatewayToken = randomBytes(24).toString('hex');
  readonly capture = createCapturingLogger('webhook-gateway');
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'stacklink-gw-'));
  private readonly masterKey = randomBytes(32).toString('base64');
  private readonly proxies: TcpProxy[] = [];
  integration: Integration | undefined;
  gateway: Gateway | undefined;
  integrationId = '';
  secret = '';
  private admin: amqp.ChannelModel | undefined;
  private probe: amqp.Channel | undefined;
  readonly published: Published[] = [];

  async startIntegration(port = 0): Promise<Integration> {
    const config = loadIntegrationConfig({
      PORT: String(port),
      STORE_URL: `sqlite:${path.join(this.dir, 'store.db')}`,
      ADMIN_TOKEN: this.adminToken,
      INTERNAL_TOKEN: this.internalToken,
      GATEWAY_TOKEN: this.gatewayToken,
      MASTER_KEY: this.masterKey,
      RABBITMQ_URL,
      NAMESPACE: this.namespace,
      STACK_TRIGGER_URL: 'http://127.0.0.1:9',
    });
    this.integration = await startIntegrationService(config, { logger: createSilentLogger() });
    return this.integration;
  }

  async createIntegration(): Promise<void> {
    const res = await fetch(`${this.integration!.url}/api/v1/integrations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: `gw-${randomUUID()}`,
        apiHost: 'http://127.0.0.1:7990',
        userFacingHost: 'http://127.0.0.1:7990',
        username: 'stacklink',
        accessToken: randomBytes(20).toString('hex'),
      }),
    });
    if (res.status !== 201) throw new Error(`create integration: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { id: string; webhook: { secret: string } };
    this.integrationId = body.id;
    this.secret = body.webhook.secret;
  }

  gatewayConfig(overrides: Record<string, string> = {}): GatewayConfig {
    return loadGatewayConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      RABBITMQ_URL,
      REDIS_URL,
      GATEWAY_TOKEN: this.gatewayToken,
      NAMESPACE: this.namespace,
      INTEGRATION_URL: this.integration!.url,
      PUBLISH_TIMEOUT_MS: '1500',
      ...overrides,
    });
  }

  async startGateway(
    overrides: Record<string, string> = {},
    logger: Logger = this.capture.logger,
  ): Promise<Gateway> {
    this.gateway = await startGateway(this.gatewayConfig(overrides), { logger });
    return this.gateway;
  }

  async brokerProxy(): Promise<{ proxy: TcpProxy; url: string }> {
    const target = new URL(RABBITMQ_URL);
    const proxy = await createTcpProxy({
      targetHost: target.hostname,
      targetPort: Number(target.port || 5672),
    });
    this.proxies.push(proxy);
    return { proxy, url: proxy.urlFor(RABBITMQ_URL) };
  }

  /** A queue bound to every canonical event of this namespace; records each message it receives. */
  async startProbe(): Promise<void> {
    this.admin = await amqp.connect(RABBITMQ_URL);
    this.probe = await this.admin.createChannel();
    const exchange = `${this.namespace}.vcs.events`;
    const queue = `${this.namespace}.probe`;
    await this.probe.assertExchange(exchange, 'topic', { durable: true });
    await this.probe.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await this.probe.bindQueue(queue, exchange, '#');
    await this.probe.consume(queue, (m) => {
      if (!m) return;
      this.published.push({
        messageId: m.properties.messageId as string | undefined,
        routingKey: m.fields.routingKey,
        headers: m.properties.headers ?? {},
        body: JSON.parse(m.content.toString()) as Record<string, unknown>,
      });
      this.probe!.ack(m);
    });
  }

  async deliver(
    body: Buffer | string,
    options: {
      eventKey?: string;
      requestId?: string;
      signature?: string | null;
      integrationId?: string;
      contentType?: string;
    } = {},
  ): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
    const raw = typeof body === 'string' ? Buffer.from(body) : body;
    const headers: Record<string, string> = {
      'content-type': options.contentType ?? 'application/json; charset=utf-8',
      'x-event-key': options.eventKey ?? 'pr:opened',
      'x-request-id': options.requestId ?? randomUUID(),
      'user-agent': 'Bitbucket version: 9.4.0, Post-Service Hook Version: 1.0',
    };
    if (options.signature !== null) headers['x-hub-signature'] = options.signature ?? sign(this.secret, raw);
    const res = await fetch(
      `${this.gateway!.url}/webhooks/bitbucket-dc/${options.integrationId ?? this.integrationId}`,
      {
        method: 'POST',
        headers,
        body: raw,
      },
    );
    const text = await res.text();
    return {
      status: res.status,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      headers: res.headers,
    };
  }

  async cleanup(): Promise<void> {
    await this.gateway?.stop().catch(() => undefined);
    await this.integration?.stop().catch(() => undefined);
    for (const p of this.proxies) await p.close().catch(() => undefined);
    await this.admin?.close().catch(() => undefined);
    await deleteNamespace({
      namespace: this.namespace,
      amqpUrl: RABBITMQ_URL,
      redisUrl: REDIS_URL,
      // Everything the gateway declares, the delivery-records quorum queue and its retry and dead-letter
      // queues included: left behind, each run's queues pile up on the shared broker.
      topologies: [topologyNames(gatewayTopology(`${hostname()}-${process.pid}`))],
      queues: ['probe'],
    }).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
