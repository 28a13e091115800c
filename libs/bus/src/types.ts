import type { Logger } from '@stacklink/logger';
import type { Registry } from 'prom-client';

export interface QueueSpec {
  /** Logical name, e.g. `stack-trigger.vcs-events`; the bus adds the namespace. */
  name: string;
  bindings: { exchange: string; pattern: string }[];
  /** Attempts after the first = `delaysMs.length`; `[1000, 5000, 30000]` by default. */
  retry?: { delaysMs: number[]; wait?: WaitPolicy };
  /**
   * Deliveries after which RabbitMQ itself parks the message in `${name}.dlq` (x-delivery-limit): the
   * safety net for a message that kills its consumer before the handler can fail. 20 by default.
   */
  deliveryLimit?: number;
  /**
   * A queue of this process alone (e.g. a replica's cache-invalidation feed): exclusive, auto-deleted
   * with its connection, declared again after every reconnect, with no retry or dead-letter queues —
   * nothing durable depends on it, so a failing handler is logged and the message dropped.
   */
  transient?: boolean;
}

/**
 * How a message whose handler threw a "wait" error (see `waitHintOf`: something it depends on is down,
 * not broken) is delayed: without counting an attempt, by `delayMs` each time, until `horizonMs` after
 * its first wait, when it is parked like any other failure. One delay for every waiting message of a
 * queue, so they all circle through one FIFO delay queue and come back in the order they arrived.
 */
export interface WaitPolicy {
  /** The delay between two tries while waiting; declared as a delay queue. */
  delayMs: number;
  /** How long a message may wait in total before it goes to the dead-letter queue. */
  horizonMs: number;
}

export interface ExchangeSpec {
  name: string;
  /** `topic` by default. Exchanges are always durable. */
  type?: 'topic' | 'direct' | 'fanout';
}

export interface Topology {
  exchanges: ExchangeSpec[];
  queues: QueueSpec[];
}

export interface PublishOptions {
  messageId: string;
  headers?: Record<string, string | number | boolean>;
  timestampMs?: number;
}

export interface IncomingMessage {
  /** The parsed JSON body. */
  body: unknown;
  content: Buffer;
  messageId: string | undefined;
  /** Routing key the message was first published with (also on retries). */
  routingKey: string;
  /** Logical exchange the message was first published to (also on retries). */
  exchange: string;
  headers: Record<string, unknown>;
  /** 1 on the first delivery, 2 on the first retry, … */
  attempt: number;
  /** RabbitMQ's flag: this delivery may have been seen by another consumer that died before acking. */
  redelivered: boolean;
}

export type MessageHandler = (msg: IncomingMessage) => Promise<void>;

export interface ConsumerHandle {
  /** Stops deliveries, waits for this consumer's in-flight handlers, closes its channel. */
  cancel(): Promise<void>;
}

export interface ConsumeOptions {
  /** Unacked messages this consumer holds at once; BusOptions.prefetch (10) by default. */
  prefetch?: number;
}

export interface BusOptions {
  /** amqp://user:password@host:port/vhost — never logged with its credentials. */
  url: string;
  logger: Logger;
  topology: Topology;
  /** Prefix (`${namespace}.`) of every exchange and queue; empty in production, unique per test run. */
  namespace?: string;
  /** 5000 by default. */
  publishTimeoutMs?: number;
  /** 10 by default. */
  prefetch?: number;
  /** prom-client registry; the global one by default. */
  metricsRegistry?: Registry;
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** Upper bound close() waits for in-flight handlers; 10000 by default. */
  closeTimeoutMs?: number;
  /** AMQP heartbeat in seconds, so a silent network partition is noticed; 10 by default, 0 turns it off. */
  heartbeatSeconds?: number;
  /** Shown in the RabbitMQ management UI, e.g. the service role. */
  connectionName?: string;
}

/** A message parked in a dead-letter queue, as ops see it. */
export interface DeadLetter {
  messageId: string | undefined;
  body: unknown;
  headers: Record<string, unknown>;
  errorCode: string | undefined;
  errorMessage: string | undefined;
  attempts: number | undefined;
  originalExchange: string | undefined;
  originalRoutingKey: string | undefined;
  firstFailedAt: string | undefined;
}

export interface ReplayOptions {
  /** Only these messages; every parked message when absent. */
  messageIds?: string[];
  /** Most messages looked at in one call; 1000 by default. */
  limit?: number;
}

export interface Bus {
  /** Connects and asserts the topology; rejects with BUS.UNAVAILABLE (retryable) when the broker is unreachable. */
  start(): Promise<void>;
  /** Resolves once the broker confirmed the message; rejects with BUS.PUBLISH_FAILED (retryable, 503) otherwise. */
  publish(exchange: string, routingKey: string, body: unknown, options: PublishOptions): Promise<void>;
  consume(queue: string, handler: MessageHandler, options?: ConsumeOptions): Promise<ConsumerHandle>;
  /** Connected and topology asserted (drives /readyz). */
  isReady(): boolean;
  /** Stops consuming, lets in-flight handlers finish (bounded), closes channels and the connection. */
  close(): Promise<void>;
  /** Up to `limit` messages parked in `${queue}.dlq`, left in place. */
  inspectDeadLetters(queue: string, limit?: number): Promise<DeadLetter[]>;
  /** Sends parked messages back to their work queue as first attempts; resolves with how many. */
  replayDeadLetters(queue: string, options?: ReplayOptions): Promise<{ replayed: number }>;
  /** Every work queue of the topology: ready messages, consumers, and messages parked in its DLQ. */
  queueDepths(): Promise<QueueDepth[]>;
}

export interface QueueDepth {
  /** The logical name (without the namespace). */
  queue: string;
  messages: number;
  consumers: number;
  deadLetters: number;
}

export type { Logger, Registry };
