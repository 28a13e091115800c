import type { DeadLetter, QueueDepth } from '@stacklink/bus';
import { RUNS_READY_QUEUE, STATUS_UPDATES_QUEUE, VCS_EVENTS_QUEUE } from '@stacklink/contracts';

/**
 * The queues of stack-trigger's topology that park messages (docs/architecture.md §9); nothing else may be
 * touched.
 */
export const DEAD_LETTER_QUEUES: readonly string[] = [
  VCS_EVENTS_QUEUE,
  STATUS_UPDATES_QUEUE,
  RUNS_READY_QUEUE,
];

/** What ops need to decide on a parked message: which one, why it failed, how often. */
export interface ParkedMessage {
  messageId: string | undefined;
  errorCode: string | undefined;
  errorMessage: string | undefined;
  attempts: number | undefined;
  firstFailedAt: string | undefined;
  exchange: string | undefined;
  routingKey: string | undefined;
  body: unknown;
}

export function toParkedMessage(d: DeadLetter): ParkedMessage {
  return {
    messageId: d.messageId,
    errorCode: d.errorCode,
    errorMessage: d.errorMessage,
    attempts: d.attempts,
    firstFailedAt: d.firstFailedAt,
    exchange: d.originalExchange,
    routingKey: d.originalRoutingKey,
    body: d.body,
  };
}

/** The part of libs/bus the dead-letter tooling uses. */
export interface DeadLettersPort {
  inspectDeadLetters(queue: string, limit?: number): Promise<DeadLetter[]>;
  replayDeadLetters(queue: string, options?: { messageIds?: string[] }): Promise<{ replayed: number }>;
  /** What `stacklink status` shows: each work queue's depth, consumers and parked messages. */
  queueDepths(): Promise<QueueDepth[]>;
}
