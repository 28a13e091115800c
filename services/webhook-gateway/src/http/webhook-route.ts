import type { IncomingMessage, ServerResponse } from 'node:http';
import { handleError } from '@stacklink/errors';
import type { Logger } from '@stacklink/logger';
import type { AcceptDelivery } from '../domain/accept-delivery';

const ROUTE = /^\/webhooks\/bitbucket-dc\/([^/?#]*)\/?(?:\?.*)?$/;
const INTEGRATION_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function isWebhookRequest(req: IncomingMessage): boolean {
  return req.method === 'POST' && req.url !== undefined && req.url.startsWith('/webhooks/bitbucket-dc/');
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function send(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    ...extra,
  });
  res.end(payload);
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
        (out) => {
          const extra: Record<string, string> =
            out.retryAfterSeconds === undefined ? {} : { 'retry-after': String(out.retryAfterSeconds) };
          send(res, out.status, out.body, extra);
        },
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
