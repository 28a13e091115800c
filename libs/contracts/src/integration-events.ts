import { randomUUID } from 'node:crypto';
import Joi from 'joi';
import type { Bus, ConsumerHandle, IncomingMessage, MessageHandler, QueueSpec } from '@stacklink/bus';
import { checkMessage, type CheckMode } from './check-message';

/**
 * The `integration.events` topic exchange (docs/architecture.md §1): the integration service announces
 * every change of an integration, with the type as routing key, so gateways drop cached secrets at once.
 * Never carries secrets.
 */
export const INTEGRATION_EVENTS_EXCHANGE = 'integration.events';
export const INTEGRATION_EVENT_TYPES = [
  'integration.created',
  'integration.updated',
  'integration.deleted',
  'integration.secret_rotated',
] as const;
export type IntegrationEventType = (typeof INTEGRATION_EVENT_TYPES)[number];
/** Binds every integration event. */
export const ALL_INTEGRATION_EVENTS = 'integration.#';

export interface IntegrationEvent {
  type: IntegrationEventType;
  integrationId: string;
  occurredAt: string;
}

export const integrationEventSchema: Joi.ObjectSchema = Joi.object({
  type: Joi.string()
    .valid(...INTEGRATION_EVENT_TYPES)
    .required(),
  integrationId: Joi.string().min(1).required(),
  occurredAt: Joi.string().isoDate().required(),
});

/** Checks an integration event in `mode`; throws INTEGRATION_EVENTS.INVALID_MESSAGE (400, not retryable). */
export function validateIntegrationEvent(value: unknown, mode: CheckMode): IntegrationEvent {
  return checkMessage<IntegrationEvent>(integrationEventSchema, value, {
    mode,
    code: 'INTEGRATION_EVENTS.INVALID_MESSAGE',
    what: 'integration event',
  });
}

/** Publishes `event` on `integration.events` after checking it strictly; resolves once confirmed. */
export async function publishIntegrationEvent(
  bus: Pick<Bus, 'publish'>,
  event: IntegrationEvent,
): Promise<void> {
  const valid = validateIntegrationEvent(event, 'producer');
  await bus.publish(INTEGRATION_EVENTS_EXCHANGE, valid.type, valid, {
    messageId: randomUUID(),
    headers: { integrationId: valid.integrationId },
  });
}

/**
 * A consumer's queue bound to `integration.events`: by default every type, and `transient` (exclusive to
 * the process, gone with its connection) — a cache feed that nothing durable depends on.
 */
export function integrationEventsQueue(
  name: string,
  options: { patterns?: readonly string[]; transient?: boolean } = {},
): QueueSpec {
  return {
    name,
    bindings: (options.patterns ?? [ALL_INTEGRATION_EVENTS]).map((pattern) => ({
      exchange: INTEGRATION_EVENTS_EXCHANGE,
      pattern,
    })),
    ...(options.transient === false ? {} : { transient: true }),
  };
}

export type IntegrationEventHandler = (event: IntegrationEvent, incoming: IncomingMessage) => Promise<void>;

/**
 * Typed consumption of integration events: each is checked in consumer mode before the handler runs;
 * one that does not conform fails with INTEGRATION_EVENTS.INVALID_MESSAGE (not retryable).
 */
export function subscribeIntegrationEvents(
  bus: Pick<Bus, 'consume'>,
  queue: string,
  handler: IntegrationEventHandler,
): Promise<ConsumerHandle> {
  return bus.consume(queue, handleIntegrationEvents(handler));
}

/** The bus handler of a queue bound to `integration.events`: checks each event, then calls `handler`. */
export function handleIntegrationEvents(handler: IntegrationEventHandler): MessageHandler {
  return async (incoming) => handler(validateIntegrationEvent(incoming.body, 'consumer'), incoming);
}
