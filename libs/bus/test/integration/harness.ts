import amqp from 'amqplib';
import { Registry } from 'prom-client';
import { createSilentLogger } from '@stacklink/logger';
import { createTcpProxy, deleteNamespace, RABBITMQ_URL, TcpProxy, uniqueNamespace } from '@stacklink/testing';
import { Bus, BusOptions, createBus, topologyNames, Topology } from '../../src';

export const testTopology: Topology = {
  exchanges: [{ name: 'events' }, { name: 'nowhere' }],
  queues: [
    {
      name: 'work',
      bindings: [{ exchange: 'events', pattern: 'work.#' }],
      retry: { delaysMs: [100, 300] },
    },
  ],
};

/**
 * One namespace, one metrics registry and every bus, proxy and admin connection of a test, so
 * afterEach can tear all of it down and the next test starts clean.
 */
export class Harness {
  readonly namespace = uniqueNamespace('bus');
  readonly registry = new Registry();
  readonly url = RABBITMQ_URL;
  private readonly buses: Bus[] = [];
  private readonly proxies: TcpProxy[] = [];
  private admin: amqp.ChannelModel | undefined;

  constructor(readonly topology: Topology = testTopology) {}

  bus(overrides: Partial<BusOptions> = {}): Bus {
    const bus = createBus({
      url: RABBITMQ_URL,
      logger: createSilentLogger(),
      topology: this.topology,
      namespace: this.namespace,
      metricsRegistry: this.registry,
      reconnect: { initialDelayMs: 50, maxDelayMs: 400 },
      publishTimeoutMs: 2000,
      ...overrides,
    });
    this.buses.push(bus);
    return bus;
  }

  async proxy(): Promise<TcpProxy> {
    const target = new URL(RABBITMQ_URL);
    const proxy = await createTcpProxy({
      targetHost: target.hostname,
      targetPort: Number(target.port || 5672),
    });
    this.proxies.push(proxy);
    return proxy;
  }

  /** A plain amqplib channel for looking at the broker from outside the bus. */
  async adminChannel(): Promise<amqp.Channel> {
    this.admin ??= await amqp.connect(RABBITMQ_URL);
    const channel = await this.admin.createChannel();
    channel.on('error', () => undefined);
    return channel;
  }

  physical(name: string): string {
    return `${this.namespace}.${name}`;
  }

  /** Ready messages in a queue (logical name); unacked ones are not counted. */
  async readyCount(queue: string): Promise<number> {
    return (await this.checkQueue(queue)).messageCount;
  }

  /** Consumers attached to a queue (logical name). */
  async consumerCount(queue: string): Promise<number> {
    return (await this.checkQueue(queue)).consumerCount;
  }

  private async checkQueue(queue: string): Promise<amqp.Replies.AssertQueue> {
    const channel = await this.adminChannel();
    try {
      return await channel.checkQueue(this.physical(queue));
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const metric = (await this.registry.getMetricsAsJSON()).find((m) => m.name === name);
    const values = (metric?.values ?? []) as { value: number; labels: Record<string, string | number> }[];
    return values
      .filter((v) => Object.entries(labels).every(([key, value]) => v.labels[key] === value))
      .reduce((sum, v) => sum + v.value, 0);
  }

  async cleanup(): Promise<void> {
    // Proxies first: a bus behind a frozen proxy would otherwise wait for a close-ok that never comes.
    for (const proxy of this.proxies) await proxy.close();
    await Promise.all(this.buses.map((bus) => bus.close()));
    await this.admin?.close().catch(() => undefined);
    await deleteNamespace({
      namespace: this.namespace,
      amqpUrl: RABBITMQ_URL,
      ...topologyNames(this.topology),
    });
  }
}

/** A promise plus the function that resolves it, for handlers the test releases when it wants. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

export async function rejectionOf(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (err) {
    return err as Record<string, unknown>;
  }
  throw new Error('expected the promise to reject, but it resolved');
}
