import { randomUUID } from 'node:crypto';
import Joi from 'joi';
import type { Bus, ConsumerHandle, IncomingMessage, QueueSpec } from '@stacklink/bus';
import { type CanonicalEvent, routingKeyFor, validateEvent, VCS_EVENTS_EXCHANGE } from '@stacklink/events';
import { checkMessage, type CheckMode } from './check-message';

/**
 * The `deliveries` exchange (docs/architecture.md §13): the gateway's record of every delivery it
 * answered, in batches, for stack-trigger's delivery history. Records never carry a delivery's body.
 */
export const DELIVERIES_EXCHANGE = 'deliveries';
export const DELIVERY_RECORDS_ROUTING_KEY = 'delivery.records';
/** Stack-trigger's queue of delivery records (its API role stores them). */
export const DELIVERY_RECORDS_QUEUE = 'stack-trigger.delivery-records';

/** What the gateway answered, in words stable enough to filter on. */
export const DELIVERY_OUTCOMES = [
  'accepted',
  'duplicate',
  'ping',
  'ignored',
  'invalid_signature',
  'unknown_integration',
  'invalid_payload',
  'scope_mismatch',
  'missing_event_key',
  'missing_delivery_id',
  'unsupported_content_type',
  'invalid_json',
  'unavailable',
  'error',
] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

/** One answered delivery, as the gateway saw it (docs/architecture.md §13). */
export interface DeliveryRecord {
  /** Bitbucket's `X-Request-Id`; '' when the delivery had none. */
  deliveryId: string;
  integrationId: string;
  /** `X-Event-Key`; '' when the delivery had none. */
  eventKey: string;
  /** `?scope=` of the webhook URL, for managed per-repository webhooks. */
  scope?: string;
  receivedAt: string;
  /** The HTTP status answered. */
  status: number;
  outcome: DeliveryOutcome;
  /** Why, in words (which part of the signature failed, which field was invalid…). */
  reason?: string;
  /** The published event, for an accepted delivery. */
  eventId?: string;
}

export interface DeliveryRecordsMessage {
  specVersion: 1;
  records: DeliveryRecord[];
}

/** Bounds of a record's strings: the gateway cuts what a sender controls to these before publishing. */
export const DELIVERY_RECORD_LIMITS = { id: 255, eventKey: 255, scope: 300, reason: 1024 } as const;
/** Records one message carries at most. */
export const MAX_RECORDS_PER_MESSAGE = 1000;

const recordSchema = Joi.object({
  deliveryId: Joi.string().allow('').max(DELIVERY_RECORD_LIMITS.id).required(),
  integrationId: Joi.string().min(1).max(DELIVERY_RECORD_LIMITS.id).required(),
  eventKey: Joi.string().allow('').max(DELIVERY_RECORD_LIMITS.eventKey).required(),
  scope: Joi.string().max(DELIVERY_RECORD_LIMITS.scope),
  receivedAt: Joi.string().isoDate().required(),
  status: Joi.number().integer().min(100).max(599).required(),
  outcome: Joi.string()
    .valid(...DELIVERY_OUTCOMES)
    .required(),
  reason: Joi.string().allow('').max(DELIVERY_RECORD_LIMITS.reason),
  eventId: Joi.string().min(1).max(DELIVERY_RECORD_LIMITS.id),
});

function cut(value: string, max: number): string {
  return value.length <= max ? value : value.slice(0, max);
}

/**
 * A record that conforms by construction: every string a sender controls is cut to its bound, so a
 * batch of these may be published without checking each record again (`publishDeliveryRecords`).
 */
export function deliveryRecord(input: {
  deliveryId: string | undefined;
  integrationId: string;
  eventKey: string | undefined;
  scope?: string | undefined;
  receivedAt: Date;
  status: number;
  outcome: DeliveryOutcome;
  reason?: string | undefined;
  eventId?: string | undefined;
}): DeliveryRecord {
  const record: DeliveryRecord = {
    deliveryId: cut(input.deliveryId ?? '', DELIVERY_RECORD_LIMITS.id),
    integrationId: cut(input.integrationId, DELIVERY_RECORD_LIMITS.id) || '-',
    eventKey: cut(input.eventKey ?? '', DELIVERY_RECORD_LIMITS.eventKey),
    receivedAt: input.receivedAt.toISOString(),
    status: input.status,
    outcome: input.outcome,
  };
  if (input.scope) record.scope = cut(input.scope, DELIVERY_RECORD_LIMITS.scope);
  if (input.reason !== undefined) record.reason = cut(input.reason, DELIVERY_RECORD_LIMITS.reason);
  if (input.eventId) record.eventId = cut(input.eventId, DELIVERY_RECORD_LIMITS.id);
  return record;
}

export const deliveryRecordsMessageSchema: Joi.ObjectSchema = Joi.object({
  specVersion: Joi.number().valid(1).required(),
  records: Joi.array().items(recordSchema).min(1).max(MAX_RECORDS_PER_MESSAGE).required(),
});

/** Checks a records message in `mode`; throws DELIVERIES.INVALID_MESSAGE (400, not retryable). */
export function validateDeliveryRecords(value: unknown, mode: CheckMode): DeliveryRecordsMessage {
  return checkMessage<DeliveryRecordsMessage>(deliveryRecordsMessageSchema, value, {
    mode,
    code: 'DELIVERIES.INVALID_MESSAGE',
    what: 'delivery records message',
  });
}

/**
 * Publishes one batch of records on `deliveries`; resolves once the broker confirmed it. Checked in
 * producer mode unless `built` says every record was made by `deliveryRecord()`, which bounds and
 * shapes each field itself: the gateway's event loop is the hot path of the system, and checking
 * thousands of records a second with joi would cost it more than building them.
 */
export async function publishDeliveryRecords(
  bus: Pick<Bus, 'publish'>,
  records: DeliveryRecord[],
  options: { built?: boolean } = {},
): Promise<void> {
  const message: DeliveryRecordsMessage = options.built
    ? { specVersion: 1, records }
    : validateDeliveryRecords({ specVersion: 1, records }, 'producer');
  await bus.publish(DELIVERIES_EXCHANGE, DELIVERY_RECORDS_ROUTING_KEY, message, { messageId: randomUUID() });
}

export const deliveryRecordsQueueSpec: QueueSpec = {
  name: DELIVERY_RECORDS_QUEUE,
  bindings: [{ exchange: DELIVERIES_EXCHANGE, pattern: '#' }],
  retry: { delaysMs: [1000, 5000, 30_000] },
};

export function subscribeDeliveryRecords(
  bus: Pick<Bus, 'consume'>,
  queue: string,
  handler: (message: DeliveryRecordsMessage, incoming: IncomingMessage) => Promise<void>,
): Promise<ConsumerHandle> {
  return bus.consume(queue, async (incoming) =>
    handler(validateDeliveryRecords(incoming.body, 'consumer'), incoming),
  );
}

/**
 * AMQP header of a re-published event (`POST /deliveries/{id}/redeliver`): the id of the event it
 * repeats, so the delivery history ties the two together.
 */
export const REDELIVERY_OF_HEADER = 'redeliveryOf';

/** The original event id a message repeats, if it is a redelivery. */
export function redeliveryOf(incoming: Pick<IncomingMessage, 'headers'>): string | undefined {
  const value = incoming.headers[REDELIVERY_OF_HEADER];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Re-publishes an accepted event on `vcs.events` (docs/architecture.md §13) under the new id it carries,
 * pointing at the event it repeats. The one publish to `vcs.events` that is not the gateway's: every
 * consumer is idempotent, so it creates only what is missing.
 */
export async function publishRedelivery(
  bus: Pick<Bus, 'publish'>,
  event: CanonicalEvent,
  originalEventId: string,
): Promise<void> {
  const valid = validateEvent(event, { mode: 'producer' });
  await bus.publish(VCS_EVENTS_EXCHANGE, routingKeyFor(valid.type), valid, {
    messageId: valid.id,
    headers: {
      integrationId: valid.integrationId,
      projectKey: valid.repository.projectKey,
      repositorySlug: valid.repository.slug,
      eventType: valid.type,
      specVersion: valid.specVersion,
      [REDELIVERY_OF_HEADER]: originalEventId,
    },
  });
}
