// Only the signature module: the gateway has no use for the REST client and its dependencies.
import {
  isWithinScope,
  parseWebhookScope,
  scopedWebhookSecret,
  type SignatureFailure,
  verifySignature,
  type WebhookScope,
} from '@stacklink/bitbucket/signature';
import { type AppError, isAppError } from '@stacklink/errors';
import { type CanonicalEvent, eventTypeForKey, normalize } from '@stacklink/events';
import type { Logger } from '@stacklink/logger';
import type {
  DeliveryDedupPort,
  EventPublisherPort,
  GatewayMetricsPort,
  SecretsLookup,
  WebhookSecretsPort,
} from './ports';
import type { UnknownIdBudget } from './unknown-id-budget';

/** What is known of a delivery before its body is read: enough to find the secret that verifies it. */
export interface DeliveryHead {
  integrationId: string;
  /** The URL's `?scope=` (docs/architecture.md §12), as sent; undefined without one. */
  scope: string | undefined;
  eventKey: string | undefined;
  /** The remote address: lookups of ids the gateway does not know are budgeted per source. */
  source: string;
}

/** A delivery the gateway may read: the secrets that verify it, and the scope its body must lie in. */
export type Admitted = Extract<SecretsLookup, { kind: 'found' }> & { scope?: WebhookScope };

export interface Delivery {
  integrationId: string;
  scope?: string | undefined;
  eventKey: string | undefined;
  deliveryId: string | undefined;
  signature: string | undefined;
  contentType: string | undefined;
  rawBody: Buffer;
  receivedAt: Date;
}

/**
 * What became of a delivery, in the gateway's own words; the HTTP edge maps each case to a status and
 * body (docs/architecture.md §5), so a replay or a CLI can run the same use case.
 */
export type DeliveryOutcome =
  | { kind: 'accepted'; eventId: string }
  | { kind: 'duplicate' }
  /** Bitbucket's "Test connection": answered, nothing published. */
  | { kind: 'ping' }
  | { kind: 'ignored'; reason: string }
  | Refused
  /** Too many lookups of unknown ids from this source: answered without a lookup. */
  | { kind: 'limited'; retryAfterSeconds: number }
  | { kind: 'unavailable'; reason: UnavailableReason; retryAfterSeconds: number };

export type Refused =
  | { kind: 'refused'; reason: 'signature'; details: SignatureFailure }
  /** `details` is the integration id that no integration has. */
  | { kind: 'refused'; reason: 'unknown-integration'; details: string }
  /** `details` is the normalizer's error, naming the field. */
  | { kind: 'refused'; reason: 'invalid-payload'; details: AppError }
  /** `details` is the scope as sent. */
  | { kind: 'refused'; reason: 'invalid-scope'; details: string }
  /** The body's repository lies outside the URL's scope; `details` says which and where. */
  | { kind: 'refused'; reason: 'scope-mismatch'; details: string }
  | {
      kind: 'refused';
      reason: 'missing-event-key' | 'missing-delivery-id' | 'unsupported-content-type' | 'invalid-json';
    };

export type RefusalReason = Refused['reason'];

/**
 * `in-flight`: the same delivery is being published by another request right now; `busy`: the
 * gateway holds as many body bytes as it allows (GATEWAY_MAX_BYTES_IN_FLIGHT).
 */
export type UnavailableReason = 'secrets' | 'in-flight' | 'broker' | 'busy';

export interface AcceptDeliveryDeps {
  secrets: WebhookSecretsPort;
  unknownIdBudget: UnknownIdBudget;
  dedup: DeliveryDedupPort;
  publisher: EventPublisherPort;
  metrics: GatewayMetricsPort;
  logger: Logger;
}

const PING = 'diagnostics:ping';
const RETRY_AFTER_SECONDS = 5;

// The outcomes without per-delivery data are allocated once: this is the hot path of the system.
const PINGED: DeliveryOutcome = { kind: 'ping' };
const DUPLICATE: DeliveryOutcome = { kind: 'duplicate' };
const UNSUPPORTED_EVENT: DeliveryOutcome = { kind: 'ignored', reason: 'event key not handled' };
const MISSING_EVENT_KEY: DeliveryOutcome = { kind: 'refused', reason: 'missing-event-key' };
const MISSING_DELIVERY_ID: DeliveryOutcome = { kind: 'refused', reason: 'missing-delivery-id' };
const UNSUPPORTED_CONTENT_TYPE: DeliveryOutcome = { kind: 'refused', reason: 'unsupported-content-type' };
const INVALID_JSON: DeliveryOutcome = { kind: 'refused', reason: 'invalid-json' };
const SECRETS_UNAVAILABLE = unavailable('secrets');
const IN_FLIGHT = unavailable('in-flight');
const BROKER_UNAVAILABLE = unavailable('broker');

function unavailable(reason: UnavailableReason): DeliveryOutcome {
  return { kind: 'unavailable', reason, retryAfterSeconds: RETRY_AFTER_SECONDS };
}

/** The `outcome` label of the deliveries metric; its values predate the outcome type and stay as they were. */
function metricOutcome(out: DeliveryOutcome): string {
  switch (out.kind) {
    case 'accepted':
    case 'duplicate':
    case 'ping':
    case 'ignored':
      return out.kind;
    case 'limited':
      return 'limited';
    case 'unavailable':
      switch (out.reason) {
        case 'secrets':
          return 'secrets_unavailable';
        case 'in-flight':
          return 'in_flight';
        case 'busy':
          return 'busy';
        default:
          return 'broker_unavailable';
      }
    case 'refused':
      switch (out.reason) {
        case 'signature':
          return 'invalid_signature';
        case 'unknown-integration':
          return 'unknown_integration';
        case 'invalid-json':
          return 'invalid_json';
        case 'invalid-payload':
          return 'invalid_payload';
        case 'scope-mismatch':
          return 'scope_mismatch';
        default:
          return 'bad_request';
      }
  }
}

/**
 * Verify, normalize, deduplicate and publish one Bitbucket delivery, in two steps: `admit` finds the
 * secrets from the URL and headers alone, so nothing of the body is read for an unknown integration, a
 * bad scope or a source over its budget (docs/architecture.md §12); `accept` checks the signature over
 * the raw bytes before anything parses them, and answers `accepted` only after the broker confirmed.
 */
export function createAcceptDelivery(deps: AcceptDeliveryDeps) {
  return { admit, accept, count };

  function count(eventKey: string | undefined, out: DeliveryOutcome): DeliveryOutcome {
    const key = eventKey?.trim() ?? '';
    deps.metrics.delivery(key === '' ? '(none)' : key, metricOutcome(out));
    return out;
  }

  /** Synchronous when the secrets are in memory (the common case), so the hot path awaits nothing here. */
  function admit(head: DeliveryHead): Admitted | DeliveryOutcome | Promise<Admitted | DeliveryOutcome> {
    if ((head.eventKey?.trim() ?? '') === '') return count(head.eventKey, MISSING_EVENT_KEY);
    let scope: WebhookScope | undefined;
    if (head.scope !== undefined) {
      scope = parseWebhookScope(head.scope);
      if (scope === undefined) {
        return count(head.eventKey, { kind: 'refused', reason: 'invalid-scope', details: head.scope });
      }
    }
    const cached = deps.secrets.cached?.(head.integrationId);
    if (cached !== undefined) return admitted(head, cached, scope);
    if (deps.secrets.known?.(head.integrationId) !== true) {
      const budget = deps.unknownIdBudget.take(head.source);
      if (!budget.allowed) {
        return count(head.eventKey, { kind: 'limited', retryAfterSeconds: budget.retryAfterSeconds });
      }
    }
    return deps.secrets.getSecrets(head.integrationId).then(
      (lookup) => admitted(head, lookup, scope),
      (err: unknown) => {
        deps.logger.warn('webhook secrets unavailable', { integrationId: head.integrationId, err });
        return count(head.eventKey, SECRETS_UNAVAILABLE);
      },
    );
  }

  function admitted(
    head: DeliveryHead,
    lookup: SecretsLookup,
    scope: WebhookScope | undefined,
  ): Admitted | DeliveryOutcome {
    if (lookup.kind === 'unknown') {
      return count(head.eventKey, {
        kind: 'refused',
        reason: 'unknown-integration',
        details: head.integrationId,
      });
    }
    if (scope === undefined) return lookup;
    // A scoped webhook's secret is derived from each secret still valid, so a rotation's grace period
    // covers scoped webhooks too.
    const raw = head.scope!;
    return { kind: 'found', secrets: lookup.secrets.map((s) => scopedWebhookSecret(s, raw)), scope };
  }

  async function accept(d: Delivery, admission: Admitted): Promise<DeliveryOutcome> {
    const eventKey = d.eventKey?.trim() ?? '';
    const result = await decide(d, eventKey, admission);
    return count(eventKey, result);
  }

  async function decide(d: Delivery, eventKey: string, admission: Admitted): Promise<DeliveryOutcome> {
    const log = deliveryLog(d, eventKey);
    // Bitbucket sends the "Test connection" ping unsigned (docs/architecture.md §5): answer it,
    // publish nothing.
    if (eventKey === PING) return PINGED;

    // Synchronous from here to the event: the raw and parsed bodies are garbage before the first wait
    // on Redis or the broker, so the deliveries in flight hold only their small events.
    const prepared = prepare(d, eventKey, admission.secrets, log);
    if (!('event' in prepared)) return prepared;
    if (admission.scope !== undefined && !isWithinScope(admission.scope, prepared.event.repository)) {
      const { projectKey, slug } = prepared.event.repository;
      log.warn('webhook body outside its scope', { scope: d.scope });
      return {
        kind: 'refused',
        reason: 'scope-mismatch',
        details: `repository ${projectKey}/${slug} lies outside the webhook's scope ${d.scope ?? ''}`,
      };
    }
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
    secrets: readonly string[],
    log: DeliveryLog,
  ): DeliveryOutcome | { event: CanonicalEvent; deliveryId: string } {
    const verification = verifySignature(d.rawBody, d.signature, secrets);
    if (!verification.valid) {
      const reason = verification.reason ?? 'mismatch';
      deps.metrics.signatureFailure(reason);
      log.warn('webhook signature rejected', { reason });
      return { kind: 'refused', reason: 'signature', details: reason };
    }

    if (eventTypeForKey(eventKey) === undefined) return UNSUPPORTED_EVENT;

    if (d.deliveryId === undefined || !/^[\w.:-]{1,128}$/.test(d.deliveryId)) return MISSING_DELIVERY_ID;
    if (d.contentType !== undefined && !/^application\/(.+\+)?json\b/i.test(d.contentType))
      return UNSUPPORTED_CONTENT_TYPE;
    let body: unknown;
    try {
      body = JSON.parse(d.rawBody.toString('utf8'));
    } catch {
      return INVALID_JSON;
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
        return { kind: 'refused', reason: 'invalid-payload', details: err };
      }
      throw err;
    }
    if (normalized.kind === 'ignored') return { kind: 'ignored', reason: normalized.reason };
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
      return DUPLICATE;
    }
    if (claim === 'in_flight') {
      // The same delivery is being published by another request right now; its outcome is unknown yet.
      deps.metrics.dedupHit();
      return IN_FLIGHT;
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
      return BROKER_UNAVAILABLE;
    }
    deps.metrics.publishSeconds(Number(process.hrtime.bigint() - started) / 1e9);
    if (claim === 'claimed') {
      await deps.dedup.markPublished(integrationId, deliveryId).catch((err: unknown) => {
        elog.warn('could not mark delivery as published; a redelivery may be published again', { err });
      });
    }
    return { kind: 'accepted', eventId: event.id };
  }
}

export type AcceptDelivery = ReturnType<typeof createAcceptDelivery>;
