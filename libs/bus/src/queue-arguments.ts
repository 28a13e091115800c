import { deadLetterQueueName, delayQueuesOf, Namer, retryQueueName } from './names';
import type { QueueSpec } from './types';

export const DEFAULT_DELIVERY_LIMIT = 20;

export interface QueueDeclaration {
  /** Physical name. */
  name: string;
  arguments: Record<string, unknown>;
  transient?: boolean;
}

/**
 * Every queue is a durable quorum queue — including the delay queues: RabbitMQ 3.10 added message TTL
 * to quorum queues (checked against 3.10.8), and with `x-dead-letter-strategy: at-least-once` the move
 * from delay queue back to the work queue is itself confirmed, so a broker failure during a delay loses
 * nothing. That strategy requires `x-overflow: reject-publish`; without a length limit it never triggers.
 */
export function queueDeclarations(spec: QueueSpec, namer: Namer): QueueDeclaration[] {
  const work = namer.physical(spec.name);
  if (spec.transient) return [{ name: work, arguments: {}, transient: true }];
  const dlq = namer.physical(deadLetterQueueName(spec.name));
  const declarations: QueueDeclaration[] = [
    {
      name: work,
      arguments: {
        'x-queue-type': 'quorum',
        // Only used by the broker when a message exceeds the delivery limit (a consumer that keeps
        // dying on it); handler failures are parked by the bus with the error in the headers.
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': dlq,
        'x-delivery-limit': spec.deliveryLimit ?? DEFAULT_DELIVERY_LIMIT,
      },
    },
    { name: dlq, arguments: { 'x-queue-type': 'quorum' } },
  ];
  for (const delayMs of delayQueuesOf(spec)) {
    declarations.push({
      name: namer.physical(retryQueueName(spec.name, delayMs)),
      arguments: {
        'x-queue-type': 'quorum',
        'x-message-ttl': delayMs,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': work,
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
      },
    });
  }
  return declarations;
}
