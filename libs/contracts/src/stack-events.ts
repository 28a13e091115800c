import { randomUUID } from 'node:crypto';
import Joi from 'joi';
import type { Bus, ConsumerHandle, IncomingMessage, QueueSpec } from '@stacklink/bus';
import { checkMessage, type CheckMode } from './check-message';
import { ALL_INTEGRATION_EVENTS, INTEGRATION_EVENTS_EXCHANGE } from './integration-events';

/**
 * The `stack.events` topic exchange (docs/architecture.md §14): stack-trigger's API announces every
 * stack created, changed or deleted, with the type as routing key, so the reconciler brings the
 * repository's managed webhook in line at once rather than at its next interval.
 */
export const STACK_EVENTS_EXCHANGE = 'stack.events';
export const STACK_EVENT_TYPES = ['stack.created', 'stack.updated', 'stack.deleted'] as const;
export type StackEventType = (typeof STACK_EVENT_TYPES)[number];
export const ALL_STACK_EVENTS = 'stack.#';

export interface StackEvent {
  type: StackEventType;
  stackId: string;
  integrationId: string;
  repository: { projectKey: string; slug: string };
  occurredAt: string;
}

export const stackEventSchema: Joi.ObjectSchema = Joi.object({
  type: Joi.string()
    .valid(...STACK_EVENT_TYPES)
    .required(),
  stackId: Joi.string().min(1).required(),
  integrationId: Joi.string().min(1).required(),
  repository: Joi.object({
    projectKey: Joi.string().min(1).max(128).required(),
    slug: Joi.string().min(1).max(128).required(),
  }).required(),
  occurredAt: Joi.string().isoDate().required(),
});

/** Checks a stack event in `mode`; throws STACK_EVENTS.INVALID_MESSAGE (400, not retryable). */
export function validateStackEvent(value: unknown, mode: CheckMode): StackEvent {
  return checkMessage<StackEvent>(stackEventSchema, value, {
    mode,
    code: 'STACK_EVENTS.INVALID_MESSAGE',
    what: 'stack event',
  });
}

/** Publishes `event` on `stack.events` after checking it strictly; resolves once confirmed. */
export async function publishStackEvent(bus: Pick<Bus, 'publish'>, event: StackEvent): Promise<void> {
  const valid = validateStackEvent(event, 'producer');
  await bus.publish(STACK_EVENTS_EXCHANGE, valid.type, valid, {
    messageId: randomUUID(),
    headers: { integrationId: valid.integrationId },
  });
}

/**
 * Each reconciler replica's own feed of changes: stack events and integration events, on a transient
 * queue (gone with the replica's connection). Only the replica holding the lease acts on them; the
 * interval catches anything a replica missed while none held it.
 */
export const RECONCILER_CHANGES_QUEUE_PREFIX = 'stack-trigger.reconciler-changes.';
export function reconcilerChangesQueue(instance: string): string {
  return `${RECONCILER_CHANGES_QUEUE_PREFIX}${instance}`;
}
export function reconcilerChangesQueueSpec(instance: string): QueueSpec {
  return {
    name: reconcilerChangesQueue(instance),
    bindings: [
      { exchange: STACK_EVENTS_EXCHANGE, pattern: ALL_STACK_EVENTS },
      { exchange: INTEGRATION_EVENTS_EXCHANGE, pattern: ALL_INTEGRATION_EVENTS },
    ],
    transient: true,
  };
}

/** What changed, for the reconciler: which integration to look at again. */
export type ReconcilerChange =
  { kind: 'stack'; event: StackEvent } | { kind: 'integration'; integrationId: string };

/** Consumes a reconciler changes queue; messages of either exchange are checked before `handler` runs. */
export function subscribeReconcilerChanges(
  bus: Pick<Bus, 'consume'>,
  queue: string,
  handler: (change: ReconcilerChange, incoming: IncomingMessage) => Promise<void>,
): Promise<ConsumerHandle> {
  return bus.consume(queue, async (incoming) => {
    const body = incoming.body as { type?: unknown; integrationId?: unknown } | null;
    if (typeof body?.type === 'string' && body.type.startsWith('stack.'))
      return handler({ kind: 'stack', event: validateStackEvent(body, 'consumer') }, incoming);
    const integrationId = typeof body?.integrationId === 'string' ? body.integrationId : '';
    if (integrationId === '') return; // Not ours to read: nothing to reconcile.
    return handler({ kind: 'integration', integrationId }, incoming);
  });
}
