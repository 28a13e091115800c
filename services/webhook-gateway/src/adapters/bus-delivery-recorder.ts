import type { Registry } from 'prom-client';
import type { Bus } from '@stacklink/bus';
import {
  DELIVERY_OUTCOMES,
  deliveryRecord,
  MAX_RECORDS_PER_MESSAGE,
  publishDeliveryRecords,
  type DeliveryOutcome as RecordOutcome,
  type DeliveryRecord,
} from '@stacklink/contracts';
import { getOrCreateCounter } from '@stacklink/http';
import type { Logger } from '@stacklink/logger';
import type { Delivery, DeliveryOutcome } from '../domain/accept-delivery';

export interface DeliveryRecorderOptions {
  /** How often the buffer leaves as one message; 250 ms by default. */
  flushIntervalMs?: number;
  /** A batch this large leaves at once, without waiting for the timer; 500 by default. */
  maxBatch?: number;
  /** Records kept while the broker cannot take them; beyond this they are dropped and counted. */
  maxBuffered?: number;
}

export interface DeliveryRecorder {
  /** Notes what became of one delivery. Synchronous and cheap: it runs for every answered delivery. */
  record(delivery: Delivery, out: DeliveryOutcome): void;
  /** Sends what is buffered now (tests; shutdown). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/** What a record needs of a delivery: never its body or signature. */
interface Pending {
  integrationId: string;
  eventKey: string | undefined;
  deliveryId: string | undefined;
  scope: string | undefined;
  receivedAt: Date;
  out: DeliveryOutcome;
}

/**
 * The gateway's delivery records (docs/architecture.md §13), off the 202 path: `record` only appends to a
 * bounded buffer; a timer sends the buffer as one message to the `deliveries` exchange every
 * `flushIntervalMs` (or once `maxBatch` records wait). A batch the broker refuses is dropped and counted
 * (`stacklink_gateway_delivery_records_dropped_total`), never retried: new deliveries come first, and the
 * decision of every accepted delivery is kept by stack-trigger anyway. Never holds a delivery's body.
 */
export function createBusDeliveryRecorder(
  bus: Pick<Bus, 'publish'>,
  deps: { registry: Registry; logger: Logger },
  options: DeliveryRecorderOptions = {},
): DeliveryRecorder {
  const flushIntervalMs = options.flushIntervalMs ?? 250;
  const maxBatch = Math.min(options.maxBatch ?? 500, MAX_RECORDS_PER_MESSAGE);
  const maxBuffered = options.maxBuffered ?? 10_000;
  const dropped = getOrCreateCounter(deps.registry, {
    name: 'stacklink_gateway_delivery_records_dropped_total',
    help: 'Delivery records not sent to the delivery history (buffer full or broker unavailable)',
    labelNames: ['cause'] as const,
  });
  let buffer: Pending[] = [];
  let sending: Promise<void> | undefined;
  let stopped = false;
  const timer = setInterval(() => void flush(), flushIntervalMs);
  timer.unref();

  function flush(): Promise<void> {
    if (sending !== undefined) return sending;
    if (buffer.length === 0) return Promise.resolve();
    sending = (async () => {
      try {
        while (buffer.length > 0) {
          const batch = buffer.length <= maxBatch ? buffer : buffer.slice(0, maxBatch);
          buffer = buffer.length <= maxBatch ? [] : buffer.slice(maxBatch);
          try {
            await publishDeliveryRecords(bus, batch.map(toRecord), { built: true });
          } catch (err) {
            dropped.inc({ cause: 'broker' }, batch.length);
            deps.logger.warn('delivery records dropped: the broker did not take them', {
              records: batch.length,
              err,
            });
            return;
          }
        }
      } finally {
        sending = undefined;
      }
    })();
    return sending;
  }

  return {
    record(delivery, out) {
      if (stopped) return;
      if (buffer.length >= maxBuffered) {
        dropped.inc({ cause: 'buffer_full' });
        return;
      }
      // Only what a record needs: holding the delivery would hold its body until the next flush.
      buffer.push({
        integrationId: delivery.integrationId,
        eventKey: delivery.eventKey,
        deliveryId: delivery.deliveryId,
        // The scope of a managed webhook's URL, where the gateway reads one (docs/architecture.md §12).
        scope: delivery.scope,
        receivedAt: delivery.receivedAt,
        out,
      });
      if (buffer.length >= maxBatch) void flush();
    },
    flush,
    async stop() {
      clearInterval(timer);
      await flush();
      stopped = true;
    },
  };
}

/** The record of one delivery: what the gateway answered and why, never the body. */
export function toRecord(delivery: Pending): DeliveryRecord {
  const { status, outcome, reason } = describe(delivery.out);
  return deliveryRecord({
    deliveryId: delivery.deliveryId,
    integrationId: delivery.integrationId,
    eventKey: delivery.eventKey,
    scope: delivery.scope,
    receivedAt: delivery.receivedAt,
    status,
    outcome,
    reason,
    eventId: delivery.out.kind === 'accepted' ? delivery.out.eventId : undefined,
  });
}

/** The status the webhook route answers for `out` (docs/architecture.md §5), its outcome and reason. */
function describe(out: DeliveryOutcome): { status: number; outcome: RecordOutcome; reason?: string } {
  switch (out.kind) {
    case 'accepted':
      return { status: 202, outcome: 'accepted' };
    case 'duplicate':
      return { status: 200, outcome: 'duplicate', reason: 'X-Request-Id already accepted' };
    case 'ping':
      return { status: 200, outcome: 'ping' };
    case 'ignored':
      return { status: 200, outcome: 'ignored', reason: out.reason };
    case 'unavailable':
      return { status: 503, outcome: 'unavailable', reason: out.reason };
    case 'refused': {
      const refused = out as { reason: string; details?: unknown };
      const reason = detailsOf(refused.details);
      switch (refused.reason) {
        case 'signature':
          return { status: 401, outcome: 'invalid_signature', reason: `signature ${reason ?? 'invalid'}` };
        case 'unknown-integration':
          return { status: 404, outcome: 'unknown_integration' };
        default: {
          const outcome = refused.reason.replace(/-/g, '_');
          const known = (DELIVERY_OUTCOMES as readonly string[]).includes(outcome);
          return {
            status: refused.reason === 'scope-mismatch' ? 403 : 400,
            outcome: known ? (outcome as RecordOutcome) : 'error',
            reason: reason ?? refused.reason,
          };
        }
      }
    }
    default:
      return { status: 500, outcome: 'error' };
  }
}

function detailsOf(details: unknown): string | undefined {
  if (typeof details === 'string') return details.replace(/_/g, ' ');
  if (details instanceof Error) return details.message;
  return undefined;
}
