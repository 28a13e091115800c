import amqp from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, GetMessage, Message } from 'amqplib';
import { AppError } from '@stacklink/errors';
import { BackoffOptions, DEFAULT_BACKOFF, reconnectDelayMs } from './backoff';
import { coalesceFrameWrites } from './coalesce-writes';
import { type MessageProperties, messagePublisher, type PublishMessage } from './direct-publish';
import {
  attemptOf,
  deadLetterHeaders,
  decideFailure,
  decideWait,
  describeFailure,
  FailureDescription,
  HEADERS,
  Origin,
  originOf,
  replayHeaders,
  retryHeaders,
  stringHeader,
  waitHeaders,
} from './headers';
import { busMetrics, BusMetrics } from './metrics';
import {
  createNamer,
  deadLetterQueueName,
  delayQueuesOf,
  Namer,
  retryDelaysOf,
  retryQueueName,
} from './names';
import { queueDeclarations } from './queue-arguments';
import type {
  Bus,
  BusOptions,
  ConsumeOptions,
  ConsumerHandle,
  DeadLetter,
  Logger,
  MessageHandler,
  PublishOptions,
  QueueDepth,
  QueueSpec,
  ReplayOptions,
  Topology,
} from './types';

const DEFAULT_PUBLISH_TIMEOUT_MS = 5000;
const DEFAULT_PREFETCH = 10;
const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;
const DEFAULT_HEARTBEAT_SECONDS = 10;
const CONNECT_TIMEOUT_MS = 5000;

export type PublishFailureReason = 'not_connected' | 'nack' | 'unroutable' | 'connection_lost' | 'timeout';

function publishFailed(reason: PublishFailureReason, message: string, cause?: unknown): AppError {
  return new AppError('BUS.PUBLISH_FAILED', message, {
    status: 503,
    retryable: true,
    details: { reason },
    cause,
  });
}

/** host:port/vhost only: the URL carries the broker password, which must never reach a log line. */
export function describeBrokerUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}${parsed.pathname}`;
  } catch {
    return '(unparseable broker URL)';
  }
}

function withHeartbeat(url: string, seconds: number): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has('heartbeat')) parsed.searchParams.set('heartbeat', String(seconds));
  return parsed.toString();
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Resolves true when `promise` settled within `ms`, false otherwise; never rejects. */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

interface Publisher {
  channel: ConfirmChannel;
  /** The channel's publish for the bus's own messages (see direct-publish.ts). */
  publish: PublishMessage;
  /** Publishes awaiting their confirm, by publish id; `returned` is set by basic.return. */
  pending: Map<string, { returned: boolean }>;
}

interface ConsumerRecord {
  spec: QueueSpec;
  handler: MessageHandler;
  prefetch: number;
  channel: Channel | undefined;
  consumerTag: string | undefined;
  opening: boolean;
  cancelled: boolean;
  inFlight: Set<Promise<void>>;
}

class AmqpBus implements Bus {
  private readonly logger: Logger;
  private readonly topology: Topology;
  private readonly namer: Namer;
  private readonly metrics: BusMetrics;
  private readonly connectUrl: string;
  private readonly brokerLabel: string;
  private readonly publishTimeoutMs: number;
  private readonly prefetch: number;
  private readonly closeTimeoutMs: number;
  private readonly backoff: BackoffOptions;
  private readonly connectionName: string | undefined;

  private connection: ChannelModel | undefined;
  private publisher: Publisher | undefined;
  private readonly consumers = new Set<ConsumerRecord>();
  /** Channels this bus closes on purpose, so their 'close' event is not mistaken for a failure. */
  private readonly closingChannels = new WeakSet<Channel>();
  private ready = false;
  private started = false;
  private closing = false;
  private connecting: Promise<void> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectAttempt = 0;
  private publishSeq = 0;

  constructor(options: BusOptions) {
    this.logger = options.logger;
    this.topology = options.topology;
    this.namer = createNamer(options.namespace);
    this.metrics = busMetrics(options.metricsRegistry);
    this.connectUrl = withHeartbeat(options.url, options.heartbeatSeconds ?? DEFAULT_HEARTBEAT_SECONDS);
    this.brokerLabel = describeBrokerUrl(options.url);
    this.publishTimeoutMs = options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS;
    this.prefetch = options.prefetch ?? DEFAULT_PREFETCH;
    this.closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    this.backoff = {
      initialDelayMs: options.reconnect?.initialDelayMs ?? DEFAULT_BACKOFF.initialDelayMs,
      maxDelayMs: options.reconnect?.maxDelayMs ?? DEFAULT_BACKOFF.maxDelayMs,
    };
    this.connectionName = options.connectionName;
    validateTopology(options.topology);
  }

  isReady(): boolean {
    return this.ready && this.publisher !== undefined && !this.closing;
  }

  async start(): Promise<void> {
    if (this.closing) throw new AppError('BUS.CLOSED', 'the bus is closed', { status: 503 });
    if (this.ready) return;
    this.connecting = this.connect();
    try {
      await this.connecting;
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw new AppError(
        'BUS.UNAVAILABLE',
        `message broker ${this.brokerLabel} unavailable: ${errorText(err)}`,
        {
          status: 503,
          retryable: true,
          cause: err,
        },
      );
    } finally {
      this.connecting = undefined;
    }
    this.started = true;
    this.logger.info('bus connected', { broker: this.brokerLabel });
    // The connection may have dropped between connect() resolving and `started` being set.
    if (!this.ready) this.scheduleReconnect();
  }

  async publish(exchange: string, routingKey: string, body: unknown, options: PublishOptions): Promise<void> {
    let content: Buffer;
    if (Buffer.isBuffer(body)) content = body;
    else {
      const json = JSON.stringify(body) as string | undefined;
      if (json === undefined) {
        throw new AppError('BUS.INVALID_BODY', 'a message body must be JSON-serialisable', { status: 500 });
      }
      content = Buffer.from(json);
    }
    await this.confirmPublish(this.namer.physical(exchange), routingKey, content, {
      messageId: options.messageId,
      timestamp: Math.floor((options.timestampMs ?? Date.now()) / 1000),
      contentType: 'application/json',
      headers: { ...options.headers },
    });
    this.metrics.published.inc();
  }

  async consume(
    queue: string,
    handler: MessageHandler,
    options: ConsumeOptions = {},
  ): Promise<ConsumerHandle> {
    if (this.closing) throw new AppError('BUS.CLOSED', 'the bus is closed', { status: 503 });
    const record: ConsumerRecord = {
      spec: this.queueSpec(queue),
      handler,
      prefetch: options.prefetch ?? this.prefetch,
      channel: undefined,
      consumerTag: undefined,
      opening: false,
      cancelled: false,
      inFlight: new Set(),
    };
    this.consumers.add(record);
    // Before start() or during a reconnect, connect() attaches every registered consumer.
    const connection = this.connection;
    if (this.ready && connection) {
      try {
        await this.openConsumer(connection, record);
      } catch (err) {
        this.logger.warn('bus consumer could not attach; reconnecting', { queue, error: errorText(err) });
        this.forceReconnect(connection, 'consumer could not attach');
      }
    }
    return { cancel: () => this.cancelConsumer(record) };
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.ready = false;
    clearTimeout(this.reconnectTimer);
    if (this.connecting) await this.connecting.catch(() => undefined);

    const records = [...this.consumers];
    await Promise.all(records.map((record) => this.stopDeliveries(record)));
    const inFlight = records.flatMap((record) => [...record.inFlight]);
    if (!(await settledWithin(Promise.all(inFlight), this.closeTimeoutMs))) {
      this.logger.warn('bus closed with handlers still running; their messages will be redelivered', {
        handlers: inFlight.length,
      });
    }
    const publisher = this.publisher;
    if (publisher) await settledWithin(publisher.channel.waitForConfirms(), this.publishTimeoutMs);

    const connection = this.connection;
    this.connection = undefined;
    this.publisher = undefined;
    // Channels are closed one by one before the connection: on RabbitMQ 3.10 an ack followed at once
    // by connection.close can be lost for a quorum queue (the message comes back), while channel.close
    // waits for close-ok, which the broker sends only after it processed the acks before it.
    // Every close is bounded: over a silent network the broker's close-ok may never come.
    const channels: Channel[] = records.flatMap((record) => (record.channel ? [record.channel] : []));
    if (publisher) channels.push(publisher.channel);
    for (const record of records) record.channel = undefined;
    this.consumers.clear();
    for (const channel of channels) this.closingChannels.add(channel);
    if (connection) {
      await settledWithin(Promise.all(channels.map((channel) => channel.close())), this.closeTimeoutMs);
      await settledWithin(connection.close(), this.closeTimeoutMs);
    }
    this.logger.info('bus closed', { broker: this.brokerLabel });
  }

  async inspectDeadLetters(queue: string, limit = 100): Promise<DeadLetter[]> {
    const spec = this.queueSpec(queue);
    const channel = await this.opsChannel();
    const parked: DeadLetter[] = [];
    try {
      const dlq = this.namer.physical(deadLetterQueueName(spec.name));
      for (let i = 0; i < limit; i += 1) {
        const message = await channel.get(dlq, { noAck: false });
        if (message === false) break;
        parked.push(toDeadLetter(message));
      }
    } finally {
      // Never acked: closing the channel puts every message we looked at back.
      await channel.close().catch(() => undefined);
    }
    return parked;
  }

  async queueDepths(): Promise<QueueDepth[]> {
    const channel = await this.opsChannel();
    try {
      const depths: QueueDepth[] = [];
      for (const spec of this.topology.queues.filter((q) => q.transient !== true)) {
        const work = await channel.checkQueue(this.namer.physical(spec.name));
        const parked = await channel.checkQueue(this.namer.physical(deadLetterQueueName(spec.name)));
        depths.push({
          queue: spec.name,
          messages: work.messageCount,
          consumers: work.consumerCount,
          deadLetters: parked.messageCount,
        });
      }
      return depths;
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  async replayDeadLetters(queue: string, options: ReplayOptions = {}): Promise<{ replayed: number }> {
    const spec = this.queueSpec(queue);
    const wanted = options.messageIds ? new Set(options.messageIds) : undefined;
    const channel = await this.opsChannel();
    let replayed = 0;
    try {
      const dlq = this.namer.physical(deadLetterQueueName(spec.name));
      for (let i = 0; i < (options.limit ?? 1000); i += 1) {
        const message = await channel.get(dlq, { noAck: false });
        if (message === false) break;
        const messageId = message.properties.messageId as string | undefined;
        // Skipped messages stay unacked until the channel closes, so this loop never sees them twice.
        if (wanted && (messageId === undefined || !wanted.has(messageId))) continue;
        // Straight to the work queue rather than the original exchange: the other queues bound there
        // already handled this message. x-original-* headers keep exchange/routingKey as first seen.
        await this.confirmPublish('', this.namer.physical(spec.name), message.content, {
          ...copiedProperties(message),
          headers: replayHeaders(message.properties.headers),
        });
        channel.ack(message);
        replayed += 1;
      }
    } finally {
      await channel.close().catch(() => undefined);
    }
    if (replayed > 0) this.logger.info('bus replayed dead letters', { queue: spec.name, replayed });
    return { replayed };
  }

  // --- connection lifecycle -------------------------------------------------------------------

  private async connect(): Promise<void> {
    const connection = await amqp.connect(this.connectUrl, {
      timeout: CONNECT_TIMEOUT_MS,
      clientProperties: this.connectionName ? { connection_name: this.connectionName } : {},
    });
    connection.on('error', (err: unknown) =>
      this.logger.warn('bus connection error', { error: errorText(err) }),
    );
    connection.on('close', () => this.onConnectionClosed(connection));
    // The publishes of one event-loop round leave in one socket write (see coalesce-writes.ts).
    coalesceFrameWrites(connection);
    this.connection = connection;
    try {
      await this.assertTopology(connection);
      this.publisher = await this.openPublisher(connection);
      // Loop until none is missing: consume() may register one while we are awaiting here.
      for (;;) {
        const missing = [...this.consumers].filter((r) => !r.channel && !r.opening && !r.cancelled);
        if (missing.length === 0) break;
        for (const record of missing) await this.openConsumer(connection, record);
      }
      if (this.closing) throw new AppError('BUS.CLOSED', 'the bus was closed while connecting');
      if (this.connection !== connection) throw new Error('the connection closed while connecting');
      this.ready = true;
    } catch (err) {
      this.connection = undefined;
      this.publisher = undefined;
      await connection.close().catch(() => undefined);
      throw err;
    }
  }

  private onConnectionClosed(connection: ChannelModel): void {
    if (this.connection !== connection) return;
    this.connection = undefined;
    this.publisher = undefined;
    this.ready = false;
    for (const record of this.consumers) record.channel = undefined;
    if (this.closing || !this.started) return;
    this.logger.warn('bus connection lost', { broker: this.brokerLabel });
    this.scheduleReconnect();
  }

  /** Closes a connection whose state we no longer trust; its 'close' event starts the reconnect. */
  private forceReconnect(connection: ChannelModel, reason: string): void {
    if (this.closing || this.connection !== connection) return;
    this.logger.warn('bus restarting its connection', { reason });
    connection.close().catch(() => this.onConnectionClosed(connection));
  }

  private scheduleReconnect(): void {
    if (this.closing || this.reconnectTimer || this.connecting) return;
    this.reconnectAttempt += 1;
    const attempt = this.reconnectAttempt;
    const delayMs = reconnectDelayMs(attempt, this.backoff);
    this.logger.info('bus reconnecting', { broker: this.brokerLabel, attempt, delayMs });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connecting = this.connect();
      this.connecting.then(
        () => {
          this.connecting = undefined;
          this.reconnectAttempt = 0;
          this.logger.info('bus reconnected', { broker: this.brokerLabel, attempt });
          // Lost again before this callback ran: onConnectionClosed skipped scheduling while connecting.
          if (!this.ready) this.scheduleReconnect();
        },
        (err: unknown) => {
          this.connecting = undefined;
          if (this.closing) return;
          this.logger.warn('bus reconnect failed', {
            broker: this.brokerLabel,
            attempt,
            error: errorText(err),
          });
          this.scheduleReconnect();
        },
      );
    }, delayMs);
  }

  private async assertTopology(connection: ChannelModel): Promise<void> {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    this.closingChannels.add(channel);
    try {
      for (const exchange of this.topology.exchanges) {
        await channel.assertExchange(this.namer.physical(exchange.name), exchange.type ?? 'topic', {
          durable: true,
        });
      }
      for (const spec of this.topology.queues) {
        for (const declaration of queueDeclarations(spec, this.namer)) {
          await channel.assertQueue(
            declaration.name,
            declaration.transient
              ? { durable: false, exclusive: true, autoDelete: true }
              : { durable: true, arguments: declaration.arguments },
          );
        }
        for (const binding of spec.bindings) {
          await channel.bindQueue(
            this.namer.physical(spec.name),
            this.namer.physical(binding.exchange),
            binding.pattern,
          );
        }
      }
    } catch (err) {
      // The broker answered but refused the declarations (e.g. PRECONDITION_FAILED on changed
      // arguments): retrying cannot fix that, a person must.
      throw new AppError('BUS.TOPOLOGY_FAILED', `asserting the bus topology failed: ${errorText(err)}`, {
        status: 503,
        retryable: false,
        cause: err,
      });
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  private async openPublisher(connection: ChannelModel): Promise<Publisher> {
    const channel = await connection.createConfirmChannel();
    const publisher: Publisher = { channel, publish: messagePublisher(channel).publish, pending: new Map() };
    // RabbitMQ sends basic.return before the basic.ack of the same message, and amqplib emits them in
    // frame order, so the flag is set by the time the confirm callback runs.
    channel.on('return', (message: Message) => {
      const id = stringHeader(message.properties.headers, HEADERS.publishId);
      const pending = id === undefined ? undefined : publisher.pending.get(id);
      if (pending) pending.returned = true;
    });
    channel.on('error', (err: unknown) =>
      this.logger.warn('bus publish channel error', { error: errorText(err) }),
    );
    channel.on('close', () => {
      if (this.publisher !== publisher) return;
      this.publisher = undefined;
      if (this.closing || this.connection !== connection || this.closingChannels.has(channel)) return;
      // A channel error (e.g. publishing to a missing exchange) kills only this channel: reopen it
      // with the topology re-asserted, without disturbing the consumers.
      void this.reopenPublisher(connection);
    });
    return publisher;
  }

  private async reopenPublisher(connection: ChannelModel): Promise<void> {
    try {
      await this.assertTopology(connection);
      if (this.connection !== connection || this.closing) return;
      this.publisher = await this.openPublisher(connection);
      this.logger.info('bus publish channel reopened');
    } catch (err) {
      this.logger.warn('bus publish channel could not reopen', { error: errorText(err) });
      this.forceReconnect(connection, 'publish channel could not reopen');
    }
  }

  private async opsChannel(): Promise<Channel> {
    const connection = this.connection;
    if (!connection || !this.ready) {
      throw new AppError('BUS.UNAVAILABLE', 'the bus is not connected', { status: 503, retryable: true });
    }
    const channel = await connection.createChannel();
    channel.on('error', (err: unknown) =>
      this.logger.warn('bus ops channel error', { error: errorText(err) }),
    );
    this.closingChannels.add(channel);
    return channel;
  }

  // --- publishing ------------------------------------------------------------------------------

  /** Publishes and waits for the broker's confirm; the one path every message of this bus takes. */
  private confirmPublish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    // A fresh object of the caller's, headers included: the publish id is added to its headers in place
    // rather than copied, on the hot path of every publish. Every message is persistent and mandatory.
    properties: MessageProperties,
  ): Promise<void> {
    const publisher = this.publisher;
    if (!publisher || !this.connection) {
      // Fail fast rather than buffer in memory: the caller (e.g. the gateway answering 503) decides.
      this.metrics.publishFailed.inc({ reason: 'not_connected' });
      return Promise.reject(publishFailed('not_connected', 'the message broker is not connected'));
    }
    // Only this process matches returns to publishes, so a counter is unique enough (and cheap).
    const publishId = String(++this.publishSeq);
    const pending = { returned: false };
    publisher.pending.set(publishId, pending);
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (failure?: { reason: PublishFailureReason; message: string; cause?: unknown }): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        publisher.pending.delete(publishId);
        if (failure) {
          this.metrics.publishFailed.inc({ reason: failure.reason });
          reject(publishFailed(failure.reason, failure.message, failure.cause));
        } else {
          this.metrics.confirmed.inc();
          resolve();
        }
      };
      const timer = setTimeout(
        () =>
          finish({
            reason: 'timeout',
            message: `no confirm from the broker within ${this.publishTimeoutMs} ms`,
          }),
        this.publishTimeoutMs,
      );
      try {
        properties.headers[HEADERS.publishId] = publishId;
        publisher.publish(exchange, routingKey, content, properties, (err: unknown) => {
          if (err) {
            const nacked = errorText(err) === 'message nacked';
            finish({
              reason: nacked ? 'nack' : 'connection_lost',
              message: nacked
                ? 'the broker refused the message'
                : 'the broker connection was lost before the confirm',
              cause: err,
            });
          } else if (pending.returned) {
            finish({ reason: 'unroutable', message: `no queue is bound for ${exchange} / ${routingKey}` });
          } else {
            finish();
          }
        });
      } catch (err) {
        // amqplib throws synchronously when the channel is already closed.
        finish({ reason: 'connection_lost', message: 'the broker channel is closed', cause: err });
      }
    });
  }

  // --- consuming -------------------------------------------------------------------------------

  private queueSpec(queue: string): QueueSpec {
    const spec = this.topology.queues.find((q) => q.name === queue);
    if (!spec) {
      throw new AppError('BUS.UNKNOWN_QUEUE', `queue "${queue}" is not in the bus topology`, { status: 500 });
    }
    return spec;
  }

  private async openConsumer(connection: ChannelModel, record: ConsumerRecord): Promise<void> {
    record.opening = true;
    try {
      const channel = await connection.createChannel();
      channel.on('error', (err: unknown) =>
        this.logger.warn('bus consumer channel error', { queue: record.spec.name, error: errorText(err) }),
      );
      channel.on('close', () => {
        if (record.channel !== channel) return;
        record.channel = undefined;
        record.consumerTag = undefined;
        if (this.closing || record.cancelled || this.closingChannels.has(channel)) return;
        // Re-asserting topology and re-attaching every consumer is exactly what a reconnect does.
        this.forceReconnect(connection, `consumer channel of ${record.spec.name} closed`);
      });
      await channel.prefetch(record.prefetch);
      record.channel = channel;
      const { consumerTag } = await channel.consume(
        this.namer.physical(record.spec.name),
        (message) => {
          if (message === null) {
            // The broker cancelled us, e.g. the queue was deleted: a reconnect re-declares it.
            this.forceReconnect(connection, `consumer of ${record.spec.name} cancelled by the broker`);
            return;
          }
          const work = this.handleDelivery(record, channel, message);
          record.inFlight.add(work);
          void work.finally(() => record.inFlight.delete(work));
        },
        { noAck: false },
      );
      record.consumerTag = consumerTag;
    } finally {
      record.opening = false;
    }
  }

  private async stopDeliveries(record: ConsumerRecord): Promise<void> {
    record.cancelled = true;
    const { channel, consumerTag } = record;
    if (channel && consumerTag) await channel.cancel(consumerTag).catch(() => undefined);
  }

  private async cancelConsumer(record: ConsumerRecord): Promise<void> {
    if (!this.consumers.has(record)) return;
    await this.stopDeliveries(record);
    this.consumers.delete(record);
    await settledWithin(Promise.all([...record.inFlight]), this.closeTimeoutMs);
    const channel = record.channel;
    record.channel = undefined;
    if (channel) {
      this.closingChannels.add(channel);
      await channel.close().catch(() => undefined);
    }
  }

  private async handleDelivery(
    record: ConsumerRecord,
    channel: Channel,
    message: ConsumeMessage,
  ): Promise<void> {
    const queue = record.spec.name;
    const headers = message.properties.headers ?? {};
    const attempt = attemptOf(headers);
    const origin = originOf(headers, {
      exchange: this.namer.logical(message.fields.exchange),
      routingKey: message.fields.routingKey,
    });
    this.metrics.consumed.inc({ queue });

    let body: unknown;
    try {
      body = JSON.parse(message.content.toString('utf8'));
    } catch (err) {
      // Retrying cannot make bytes parse: park it at once so it never blocks what is behind it.
      const failure = { code: 'BUS.INVALID_JSON', message: `body is not JSON: ${errorText(err)}` };
      await this.deadLetter(record, channel, message, attempt, origin, failure);
      return;
    }

    const visibleHeaders = { ...headers };
    delete visibleHeaders[HEADERS.publishId];
    const stopTimer = this.metrics.handlerDuration.startTimer({ queue });
    try {
      await record.handler({
        body,
        content: message.content,
        messageId: message.properties.messageId as string | undefined,
        routingKey: origin.routingKey,
        exchange: origin.exchange,
        headers: visibleHeaders,
        attempt,
        redelivered: message.fields.redelivered,
      });
    } catch (err) {
      stopTimer();
      const failure = describeFailure(err);
      if (record.spec.transient) {
        this.logger.warn('bus handler failed on a transient queue; message dropped', {
          queue,
          messageId: message.properties.messageId as unknown,
          code: failure.code,
          error: failure.message,
        });
        this.settle(channel, message, 'ack', queue);
        return;
      }
      const now = new Date();
      const decision =
        decideWait(err, headers, record.spec.retry?.wait, now) ??
        decideFailure(err, attempt, retryDelaysOf(record.spec));
      if (decision.action === 'wait') {
        this.logger.info('bus handler waits for a dependency that is down; not counted as an attempt', {
          queue,
          messageId: message.properties.messageId as unknown,
          attempt,
          delayMs: decision.delayMs,
          code: failure.code,
          error: failure.message,
        });
        const target = this.namer.physical(retryQueueName(queue, decision.delayMs));
        const headersOut = waitHeaders({ headers, attempt, origin, failure, now });
        if (await this.moveTo(channel, message, target, headersOut)) {
          this.metrics.waited.inc({ queue, code: failure.code });
        }
      } else if (decision.action === 'retry') {
        this.logger.warn('bus handler failed; will retry', {
          queue,
          messageId: message.properties.messageId as unknown,
          attempt,
          delayMs: decision.delayMs,
          code: failure.code,
          error: failure.message,
        });
        const target = this.namer.physical(retryQueueName(queue, decision.delayMs));
        const headersOut = retryHeaders({ headers, attempt, origin, failure, now: new Date() });
        if (await this.moveTo(channel, message, target, headersOut)) this.metrics.retried.inc({ queue });
      } else {
        await this.deadLetter(record, channel, message, attempt, origin, failure);
      }
      return;
    }
    stopTimer();
    this.settle(channel, message, 'ack', queue);
  }

  private async deadLetter(
    record: ConsumerRecord,
    channel: Channel,
    message: ConsumeMessage,
    attempt: number,
    origin: Origin,
    failure: FailureDescription,
  ): Promise<void> {
    const queue = record.spec.name;
    this.logger.error('bus message dead-lettered', {
      queue,
      messageId: message.properties.messageId as unknown,
      attempt,
      code: failure.code,
      error: failure.message,
    });
    const target = this.namer.physical(deadLetterQueueName(queue));
    const headersOut = deadLetterHeaders({
      headers: message.properties.headers,
      attempt,
      origin,
      failure,
      now: new Date(),
    });
    if (await this.moveTo(channel, message, target, headersOut)) this.metrics.deadLettered.inc({ queue });
  }

  /**
   * Confirmed copy first, ack second: a crash in between duplicates the message (handlers are
   * idempotent), the other order could lose it. If the copy fails the original goes back to its queue.
   */
  private async moveTo(
    channel: Channel,
    message: ConsumeMessage,
    targetQueue: string,
    headers: Record<string, unknown>,
  ): Promise<boolean> {
    try {
      await this.confirmPublish('', targetQueue, message.content, {
        ...copiedProperties(message),
        headers: { ...headers },
      });
    } catch (err) {
      this.logger.error('bus could not move a failed message; requeueing it', {
        target: this.namer.logical(targetQueue),
        messageId: message.properties.messageId as unknown,
        error: errorText(err),
      });
      this.settle(channel, message, 'requeue', targetQueue);
      return false;
    }
    this.settle(channel, message, 'ack', targetQueue);
    return true;
  }

  private settle(channel: Channel, message: ConsumeMessage, how: 'ack' | 'requeue', queue: string): void {
    try {
      if (how === 'ack') channel.ack(message);
      else channel.nack(message, false, true);
    } catch (err) {
      // The channel died under the handler; RabbitMQ redelivers the message to a live consumer.
      this.logger.warn('bus could not settle a message; the broker will redeliver it', {
        queue,
        messageId: message.properties.messageId as unknown,
        error: errorText(err),
      });
    }
  }
}

function copiedProperties(message: Message): Omit<MessageProperties, 'headers'> {
  const props = message.properties;
  const out: Omit<MessageProperties, 'headers'> = {
    contentType: (props.contentType as string | undefined) ?? 'application/json',
  };
  if (props.messageId !== undefined) out.messageId = props.messageId as string;
  if (props.timestamp !== undefined) out.timestamp = props.timestamp as number;
  if (props.correlationId !== undefined) out.correlationId = props.correlationId as string;
  return out;
}

function toDeadLetter(message: GetMessage): DeadLetter {
  const headers = message.properties.headers ?? {};
  let body: unknown;
  try {
    body = JSON.parse(message.content.toString('utf8'));
  } catch {
    body = message.content.toString('utf8');
  }
  const attempts = Number(headers[HEADERS.attempts]);
  return {
    messageId: message.properties.messageId as string | undefined,
    body,
    headers,
    errorCode: stringHeader(headers, HEADERS.errorCode),
    errorMessage: stringHeader(headers, HEADERS.errorMessage),
    attempts: Number.isFinite(attempts) && attempts > 0 ? attempts : undefined,
    originalExchange: stringHeader(headers, HEADERS.originalExchange),
    originalRoutingKey: stringHeader(headers, HEADERS.originalRoutingKey),
    firstFailedAt: stringHeader(headers, HEADERS.firstFailedAt),
  };
}

function validateTopology(topology: Topology): void {
  const names = new Set<string>();
  for (const spec of topology.queues) {
    if (names.has(spec.name))
      throw new AppError('BUS.INVALID_TOPOLOGY', `queue "${spec.name}" is declared twice`);
    names.add(spec.name);
    for (const delay of delayQueuesOf(spec)) {
      if (!Number.isInteger(delay) || delay <= 0) {
        throw new AppError(
          'BUS.INVALID_TOPOLOGY',
          `queue "${spec.name}" has a retry delay that is not a positive integer`,
        );
      }
    }
  }
}

/** A bus over one AMQP connection; call start() before publishing. See README.md. */
export function createBus(options: BusOptions): Bus {
  return new AmqpBus(options);
}
