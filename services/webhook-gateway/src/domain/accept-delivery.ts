// Only the signature module: the gateway has no use for the REST client and its dependencies.
import { verifySignature } from '@stacklink/bitbucket/signature';
import { AppError, isAppError } from '@stacklink/errors';
import { type CanonicalEvent, eventTypeForKey, normalize } from '@stacklink/events';
import type { Logger } from '@stacklink/logger';
import type { DeliveryDedupPort, EventPublisherPort, GatewayMetricsPort, WebhookSecretsPort } from './ports';

export interface Delivery {
  integrationId: string;
  eventKey: string | undefined;
  deliveryId: string | undefined;
  signature: string | undefined;
  contentType: string | undefined;
  rawBody: Buffer;
  receivedAt: Date;
}

/** What to answer; `status` and `body` follow the table of docs/architecture.md §5. */
export interface DeliveryOutcome {
  status: number;
  body: Record<string, unknown>;
  outcome: string;
  eventId?: string;
  retryAfterSeconds?: number;
}

export interface AcceptDeliveryDeps {
  secrets: WebhookSecretsPort;
  dedup: DeliveryDedupPort;
  publisher: EventPublisherPort;
  metrics: GatewayMetricsPort;
  logger: Logger;
}

const PING = 'diagnostics:ping';
const RETRY_AFTER_SECONDS = 5;

function problem(status: number, code: string, message: string, outcome: string): DeliveryOutcome {
  return { status, body: { error: { code, message } }, outcome };
}

function unavailable(code: string, message: string, outcome: string): DeliveryOutcome {
  return { ...problem(503, code, message, outcome), retryAfterSeconds: RETRY_AFTER_SECONDS };
}

/**
 * Verify, normalize, deduplicate and publish one Bitbucket delivery. The signature is checked over the
 * raw bytes before anything parses them; the answer is 202 only after the broker confirmed the event.
 */
export function createAcceptDelivery(deps: AcceptDeliveryDeps) {
  return async function acceptDelivery(d: Delivery): Promise<DeliveryOutcome> {
    const eventKey = d.eventKey?.trim() ?? '';
    const result = await decide(d, eventKey);
    deps.metrics.delivery(eventKey === '' ? '(none)' : eventKey, result.outcome);
    return result;
  };

  async function decide(d: Delivery, eventKey: string): Promise<DeliveryOutcome> {
    const log = deliveryLog(d, eventKey);
    if (eventKey === '')
      return problem(400, 'WEBHOOK.MISSING_EVENT_KEY', 'X-Event-Key header is required', 'bad_request');

    let lookup = deps.secrets.cached?.(d.integrationId);
    try {
      lookup ??= await deps.secrets.getSecrets(d.integrationId);
    } catch (err) {
      log.warn('webhook secrets unavailable', { err });
      return unavailable(
        'WEBHOOK.SECRETS_UNAVAILABLE',
        'webhook secrets are unavailable; retry later',
        'secrets_unavailable',
      );
    }
    if (lookup.kind === 'unknown') {
      return problem(
        404,
        'WEBHOOK.UNKNOWN_INTEGRATION',
        `no integration ${d.integrationId}`,
        'unknown_integration',
      );
    }
    // Bitbucket sends the "Test connection" ping unsigned (docs/architecture.md §5): answer it,
    // publish nothing.
    if (eventKey === PING) return { status: 200, body: { ok: true }, outcome: 'ping' };

    // Synchronous from here to the event: the raw and parsed bodies are garbage before the first wait
    // on Redis or the broker, so the deliveries in flight hold only their small events.
    const prepared = prepare(d, eventKey, lookup.secrets, log);
    if (!('event' in prepared)) return prepared;
    return publishOnce(d.integrationId, prepared.deliveryId, prepared.event, log);
  }

  type DeliveryLog = ReturnType<typeof deliveryLog>;

  function deliveryLog(d: Delivery, eventKey: string) {
    // Child loggers are made only when a line is written: this is the hot path of the system.
    const fields = { integrationId: d.integrationId, deliveryId: d.deliveryId, eventKey };
    return {
      warn: (message: string, meta?: Record<string, unknown>) =>
        deps.logger.warn(message, { ...fields, ...meta }),
      eventLog: (eventId: string) => ({
        warn: (message: string, meta?: Record<string, unknown>) =>
          deps.logger.warn(message, { ...fields, eventId, ...meta }),
      }),
    };
  }

  /** Signature, headers, JSON and normalization: the outcome to answer, or the event to publish. */
  function prepare(
    d: Delivery,
    eventKey: string,
    secrets: string[],
    log: DeliveryLog,
  ): DeliveryOutcome | { event: CanonicalEvent; deliveryId: string } {
    const verification = verifySignature(d.rawBody, d.signature, secrets);
    if (!verification.valid) {
      const reason = verification.reason ?? 'mismatch';
      deps.metrics.signatureFailure(reason);
      log.warn('webhook signature rejected', { reason });
      return problem(
        401,
        'WEBHOOK.INVALID_SIGNATURE',
        `signature ${reason.replace('_', ' ')}`,
        'invalid_signature',
      );
    }

    if (eventTypeForKey(eventKey) === undefined)
      return { status: 200, body: { ignored: true }, outcome: 'ignored' };

    if (d.deliveryId === undefined || !/^[\w.:-]{1,128}$/.test(d.deliveryId)) {
      return problem(400, 'WEBHOOK.MISSING_REQUEST_ID', 'X-Request-Id header is required', 'bad_request');
    }
    if (d.contentType !== undefined && !/^application\/(.+\+)?json\b/i.test(d.contentType)) {
      return problem(
        400,
        'WEBHOOK.UNSUPPORTED_CONTENT_TYPE',
        'Content-Type must be application/json',
        'bad_request',
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(d.rawBody.toString('utf8'));
    } catch {
      return problem(400, 'WEBHOOK.INVALID_JSON', 'body is not valid JSON', 'invalid_json');
    }

    let normalized;
    try {
      normalized = normalize({
        eventKey,
        deliveryId: d.deliveryId,
        integrationId: d.integrationId,
        receivedAt: d.receivedAt,
        body,
      });
    } catch (err) {
      if (isAppError(err) && err.status === 400) {
        log.warn('webhook payload rejected', { code: err.code, message: err.message });
        return { status: 400, body: { error: err.toJSON() }, outcome: 'invalid_payload' };
      }
      throw err;
    }
    if (normalized.kind === 'ignored') return { status: 200, body: { ignored: true }, outcome: 'ignored' };
    return { event: normalized.event, deliveryId: d.deliveryId };
  }

  /** Dedup, publish and remember one event; answers 202 only after the broker's confirm. */
  async function publishOnce(
    integrationId: string,
    deliveryId: string,
    event: CanonicalEvent,
    log: DeliveryLog,
  ): Promise<DeliveryOutcome> {
    const elog = log.eventLog(event.id);
    const claim = await deps.dedup.claim(integrationId, deliveryId);
    if (claim === 'duplicate') {
      deps.metrics.dedupHit();
      return { status: 200, body: { duplicate: true }, outcome: 'duplicate' };
    }
    if (claim === 'in_flight') {
      // The same delivery is being published by another request right now; its outcome is unknown yet.
      deps.metrics.dedupHit();
      return unavailable(
        'WEBHOOK.DELIVERY_IN_FLIGHT',
        'the same delivery is being processed; retry later',
        'in_flight',
      );
    }
    if (claim === 'unavailable') {
      // Redis holds only what may be rebuilt (docs/architecture.md §3): without it we still accept, because
      // every consumer is idempotent and a duplicate costs nothing but work.
      elog.warn('dedup store unavailable; accepting without deduplication');
    }

    const started = process.hrtime.bigint();
    try {
      await deps.publisher.publish(event);
    } catch (err) {
      if (claim === 'claimed') await deps.dedup.release(integrationId, deliveryId).catch(() => undefined);
      elog.warn('publish failed; delivery not accepted', { err });
      const retryable = !isAppError(err) || err.retryable;
      if (!retryable) throw err;
      return unavailable(
        'WEBHOOK.BROKER_UNAVAILABLE',
        'the event could not be queued; retry later',
        'broker_unavailable',
      );
    }
    deps.metrics.publishSeconds(Number(process.hrtime.bigint() - started) / 1e9);
    if (claim === 'claimed') {
      await deps.dedup.markPublished(integrationId, deliveryId).catch((err: unknown) => {
        elog.warn('could not mark delivery as published; a redelivery may be published again', { err });
      });
    }
    return { status: 202, body: { eventId: event.id }, outcome: 'accepted', eventId: event.id };
  }
}

export type AcceptDelivery = ReturnType<typeof createAcceptDelivery>;

/** Exported for the route: an AppError for a delivery over the body limit. */
export function bodyTooLarge(limit: number): AppError {
  return new AppError('WEBHOOK.BODY_TOO_LARGE', `body exceeds the limit of ${limit} bytes`, { status: 413 });
}
