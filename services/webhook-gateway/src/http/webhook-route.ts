import type { IncomingMessage, ServerResponse } from 'node:http';
import { handleError } from '@stacklink/errors';
import type { Logger } from '@stacklink/logger';
import type { AcceptDelivery, Admitted, DeliveryOutcome } from '../domain/accept-delivery';
import { createBytesInFlight } from './bytes-in-flight';
import { answerEarly } from './answer-early';

const ROUTE = /^\/webhooks\/bitbucket-dc\/([^/?#]*)\/?(?:\?(.*))?$/;
const INTEGRATION_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function isWebhookRequest(req: IncomingMessage): boolean {
  return req.method === 'POST' && req.url !== undefined && req.url.startsWith('/webhooks/bitbucket-dc/');
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

const NO_HEADERS: Record<string, string> = {};

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  extra: Record<string, string> = NO_HEADERS,
): void {
  sendJson(res, status, JSON.stringify(body), extra);
}

function sendJson(res: ServerResponse, status: number, payload: string, extra: Record<string, string>): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    ...extra,
  });
  res.end(payload);
}

function problemJson(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

// The answers that carry nothing of the delivery are serialized once (docs/architecture.md §5).
const PING_BODY = JSON.stringify({ ok: true });
const DUPLICATE_BODY = JSON.stringify({ duplicate: true });
const IGNORED_BODY = JSON.stringify({ ignored: true });
const REFUSED_BODY = {
  'missing-event-key': problemJson('WEBHOOK.MISSING_EVENT_KEY', 'X-Event-Key header is required'),
  'missing-delivery-id': problemJson('WEBHOOK.MISSING_REQUEST_ID', 'X-Request-Id header is required'),
  'unsupported-content-type': problemJson(
    'WEBHOOK.UNSUPPORTED_CONTENT_TYPE',
    'Content-Type must be application/json',
  ),
  'invalid-json': problemJson('WEBHOOK.INVALID_JSON', 'body is not valid JSON'),
} as const;
const UNAVAILABLE_BODY = {
  secrets: problemJson('WEBHOOK.SECRETS_UNAVAILABLE', 'webhook secrets are unavailable; retry later'),
  'in-flight': problemJson('WEBHOOK.DELIVERY_IN_FLIGHT', 'the same delivery is being processed; retry later'),
  broker: problemJson('WEBHOOK.BROKER_UNAVAILABLE', 'the event could not be queued; retry later'),
  busy: problemJson('WEBHOOK.BUSY', 'the gateway holds as many bodies as it may; retry later'),
} as const;
const LIMITED_BODY = problemJson(
  'WEBHOOK.TOO_MANY_UNKNOWN_INTEGRATIONS',
  'too many deliveries for unknown integrations from this address; retry later',
);

/** The status, headers and body of an outcome: the one place an outcome becomes an HTTP answer. */
function toAnswer(out: DeliveryOutcome): {
  status: number;
  payload: string;
  headers: Record<string, string>;
} {
  switch (out.kind) {
    case 'accepted':
      return { status: 202, payload: JSON.stringify({ eventId: out.eventId }), headers: NO_HEADERS };
    case 'duplicate':
      return { status: 200, payload: DUPLICATE_BODY, headers: NO_HEADERS };
    case 'ping':
      return { status: 200, payload: PING_BODY, headers: NO_HEADERS };
    case 'ignored':
      return { status: 200, payload: IGNORED_BODY, headers: NO_HEADERS };
    case 'limited':
      return { status: 429, payload: LIMITED_BODY, headers: retryAfter(out.retryAfterSeconds) };
    case 'unavailable':
      return {
        status: 503,
        payload: UNAVAILABLE_BODY[out.reason],
        headers: retryAfter(out.retryAfterSeconds),
      };
    case 'refused':
      switch (out.reason) {
        case 'signature':
          return {
            status: 401,
            payload: problemJson('WEBHOOK.INVALID_SIGNATURE', `signature ${out.details.replace('_', ' ')}`),
            headers: NO_HEADERS,
          };
        case 'unknown-integration':
          return {
            status: 404,
            payload: problemJson('WEBHOOK.UNKNOWN_INTEGRATION', `no integration ${out.details}`),
            headers: NO_HEADERS,
          };
        case 'invalid-payload':
          return {
            status: 400,
            payload: JSON.stringify({ error: out.details.toJSON() }),
            headers: NO_HEADERS,
          };
        case 'invalid-scope':
          return { status: 400, payload: INVALID_SCOPE_BODY, headers: NO_HEADERS };
        case 'scope-mismatch':
          return {
            status: 403,
            payload: problemJson('WEBHOOK.SCOPE_MISMATCH', out.details),
            headers: NO_HEADERS,
          };
        default:
          return { status: 400, payload: REFUSED_BODY[out.reason], headers: NO_HEADERS };
      }
  }
}

const INVALID_SCOPE_MESSAGE =
  '"scope" must be a project key or projectKey/repositorySlug (each at most 128 characters)';
const INVALID_SCOPE_BODY = JSON.stringify({
  error: {
    code: 'WEBHOOK.INVALID_SCOPE',
    message: INVALID_SCOPE_MESSAGE,
    details: { errors: [{ path: 'scope', message: INVALID_SCOPE_MESSAGE }] },
  },
});

function retryAfter(seconds: number): Record<string, string> {
  return { 'retry-after': String(seconds) };
}

function answer(res: ServerResponse, out: DeliveryOutcome): void {
  const a = toAnswer(out);
  sendJson(res, a.status, a.payload, a.headers);
}

/** `?scope=` of the query string: undefined without one; '' (refused as malformed) when unreadable or repeated. */
function scopeOf(query: string | undefined): string | undefined {
  if (query === undefined || query === '') return undefined;
  let scope: string | undefined;
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    if (name !== 'scope') continue;
    if (scope !== undefined) return '';
    try {
      scope = decodeURIComponent(part.slice(eq + 1).replace(/\+/g, ' '));
    } catch {
      return '';
    }
  }
  return scope;
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown }).then === 'function';
}

const BUSY: DeliveryOutcome = { kind: 'unavailable', reason: 'busy', retryAfterSeconds: 5 };

/**
 * The webhook route on plain node:http (no JSON body parser, no express middleware on this path — the
 * hot path of the system). The integration and its secret are known before a byte of the body is read,
 * and the bodies being read hold at most `maxBytesInFlight` between them (docs/architecture.md §12); then
 * the raw body is read once, handed to the use case, and the outcome mapped. Every answer given before
 * the body was read completely still reaches the client before the connection closes (answer-early.ts).
 */
export function createWebhookHandler(options: {
  acceptDelivery: AcceptDelivery;
  bodyLimitBytes: number;
  maxBytesInFlight: number;
  logger: Logger;
}): (req: IncomingMessage, res: ServerResponse) => void {
  const { acceptDelivery, bodyLimitBytes, logger } = options;
  const inFlight = createBytesInFlight(options.maxBytesInFlight);
  // A client slightly over the limit (Bitbucket sends Content-Length) still gets the 413, not a reset.
  const discardLimit = 2 * bodyLimitBytes;
  const tooLarge = problemJson('WEBHOOK.BODY_TOO_LARGE', `body exceeds the limit of ${bodyLimitBytes} bytes`);
  const early = (req: IncomingMessage, res: ServerResponse, out: DeliveryOutcome) => {
    const a = toAnswer(out);
    answerEarly(req, res, a.status, a.payload, a.headers, discardLimit);
  };

  return (req, res) => {
    const match = ROUTE.exec(req.url ?? '');
    const integrationId = match?.[1] ?? '';
    if (!INTEGRATION_ID.test(integrationId)) {
      answerEarly(
        req,
        res,
        404,
        problemJson('WEBHOOK.UNKNOWN_INTEGRATION', 'unknown integration'),
        NO_HEADERS,
        discardLimit,
      );
      return;
    }
    const declared = Number(header(req, 'content-length') ?? NaN);
    if (declared > bodyLimitBytes) {
      answerEarly(req, res, 413, tooLarge, NO_HEADERS, discardLimit);
      return;
    }
    const receivedAt = new Date();
    const eventKey = header(req, 'x-event-key');
    const scope = scopeOf(match?.[2]);
    const admission = acceptDelivery.admit({
      integrationId,
      scope,
      eventKey,
      source: req.socket.remoteAddress ?? '',
    });
    const proceed = (a: Admitted | DeliveryOutcome) => {
      if (a.kind !== 'found') early(req, res, a);
      else readBody(req, res, a, Number.isNaN(declared) ? 0 : declared);
    };
    if (isPromise(admission)) admission.then(proceed, (err: unknown) => fail(req, res, err));
    else proceed(admission);

    function readBody(req: IncomingMessage, res: ServerResponse, admitted: Admitted, reserve: number): void {
      if (!inFlight.reserve(reserve)) {
        early(req, res, acceptDelivery.count(eventKey, BUSY));
        return;
      }
      let held = reserve;
      const release = () => {
        inFlight.release(held);
        held = 0;
      };
      const chunks: Buffer[] = [];
      let size = 0;
      let done = false;
      const stop = (status: number, payload: string, headers: Record<string, string>) => {
        done = true;
        chunks.length = 0;
        release();
        req.removeListener('data', onData);
        answerEarly(req, res, status, payload, headers, discardLimit);
      };
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > bodyLimitBytes) {
          stop(413, tooLarge, NO_HEADERS);
          return;
        }
        // A body sent without Content-Length (chunked) reserves as it arrives.
        if (size > held) {
          if (!inFlight.reserve(size - held)) {
            const a = toAnswer(acceptDelivery.count(eventKey, BUSY));
            stop(a.status, a.payload, a.headers);
            return;
          }
          held = size;
        }
        chunks.push(chunk);
      };
      req.on('data', onData);
      req.on('error', () => {
        if (done) return;
        done = true;
        chunks.length = 0;
        release();
      });
      req.on('close', () => {
        if (!done) release();
      });
      req.on('end', () => {
        if (done) return;
        done = true;
        const rawBody = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
        // The 'data' listener keeps `chunks` for as long as the request lives; the body need not.
        chunks.length = 0;
        acceptDelivery
          .accept(
            {
              integrationId,
              scope,
              eventKey,
              deliveryId: header(req, 'x-request-id'),
              signature: header(req, 'x-hub-signature'),
              contentType: header(req, 'content-type'),
              rawBody,
              receivedAt,
            },
            admitted,
          )
          .then(
            (out) => {
              release();
              answer(res, out);
            },
            (err: unknown) => {
              release();
              fail(req, res, err);
            },
          );
      });
    }
  };

  function fail(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    const { status, body } = handleError(err, logger, {
      deliveryId: header(req, 'x-request-id'),
    });
    if (req.complete) send(res, status, body);
    else answerEarly(req, res, status, JSON.stringify(body), NO_HEADERS, discardLimit);
  }
}
