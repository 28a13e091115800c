import type { IncomingMessage, ServerResponse } from 'node:http';
import { handleError } from '@stacklink/errors';
import type { Logger } from '@stacklink/logger';
import type { AcceptDelivery, DeliveryOutcome } from '../domain/accept-delivery';

const ROUTE = /^\/webhooks\/bitbucket-dc\/([^/?#]*)\/?(?:\?.*)?$/;
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
} as const;

/** The one place a delivery's outcome becomes an HTTP answer. */
function answer(res: ServerResponse, out: DeliveryOutcome): void {
  switch (out.kind) {
    case 'accepted':
      send(res, 202, { eventId: out.eventId });
      return;
    case 'duplicate':
      sendJson(res, 200, DUPLICATE_BODY, NO_HEADERS);
      return;
    case 'ping':
      sendJson(res, 200, PING_BODY, NO_HEADERS);
      return;
    case 'ignored':
      sendJson(res, 200, IGNORED_BODY, NO_HEADERS);
      return;
    case 'unavailable':
      sendJson(res, 503, UNAVAILABLE_BODY[out.reason], { 'retry-after': String(out.retryAfterSeconds) });
      return;
    case 'refused':
      switch (out.reason) {
        case 'signature':
          sendJson(
            res,
            401,
            problemJson('WEBHOOK.INVALID_SIGNATURE', `signature ${out.details.replace('_', ' ')}`),
            NO_HEADERS,
          );
          return;
        case 'unknown-integration':
          sendJson(
            res,
            404,
            problemJson('WEBHOOK.UNKNOWN_INTEGRATION', `no integration ${out.details}`),
            NO_HEADERS,
          );
          return;
        case 'invalid-payload':
          send(res, 400, { error: out.details.toJSON() });
          return;
        default:
          sendJson(res, 400, REFUSED_BODY[out.reason], NO_HEADERS);
      }
  }
}

/**
 * The webhook route on plain node:http: read the raw body once (no JSON body parser, no express
 * middleware on this path — the hot path of the system), hand it to the use case, map the outcome.
 */
export function createWebhookHandler(options: {
  acceptDelivery: AcceptDelivery;
  bodyLimitBytes: number;
  logger: Logger;
}): (req: IncomingMessage, res: ServerResponse) => void {
  const { acceptDelivery, bodyLimitBytes, logger } = options;
  const tooLarge = (res: ServerResponse) => {
    send(
      res,
      413,
      {
        error: {
          code: 'WEBHOOK.BODY_TOO_LARGE',
          message: `body exceeds the limit of ${bodyLimitBytes} bytes`,
        },
      },
      { connection: 'close' },
    );
  };

  return (req, res) => {
    const match = ROUTE.exec(req.url ?? '');
    const integrationId = match?.[1] ?? '';
    if (!INTEGRATION_ID.test(integrationId)) {
      req.resume();
      send(res, 404, { error: { code: 'WEBHOOK.UNKNOWN_INTEGRATION', message: 'unknown integration' } });
      return;
    }
    const declared = Number(header(req, 'content-length') ?? NaN);
    if (declared > bodyLimitBytes) {
      tooLarge(res);
      req.destroy();
      return;
    }
    const receivedAt = new Date();
    const chunks: Buffer[] = [];
    let size = 0;
    let aborted = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > bodyLimitBytes && !aborted) {
        aborted = true;
        tooLarge(res);
        req.destroy();
        return;
      }
      if (!aborted) chunks.push(chunk);
    });
    req.on('error', () => {
      aborted = true;
    });
    req.on('end', () => {
      if (aborted) return;
      const rawBody = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      // The 'data' listener keeps `chunks` for as long as the request lives; the body need not.
      chunks.length = 0;
      acceptDelivery({
        integrationId,
        eventKey: header(req, 'x-event-key'),
        deliveryId: header(req, 'x-request-id'),
        signature: header(req, 'x-hub-signature'),
        contentType: header(req, 'content-type'),
        rawBody,
        receivedAt,
      }).then(
        (out) => answer(res, out),
        (err: unknown) => {
          const { status, body } = handleError(err, logger, {
            integrationId,
            deliveryId: header(req, 'x-request-id'),
          });
          send(res, status, body);
        },
      );
    });
  };
}
