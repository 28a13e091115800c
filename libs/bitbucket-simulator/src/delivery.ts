import http from 'node:http';
import https from 'node:https';
import { randomUUID } from 'node:crypto';
import { sign } from '@stacklink/bitbucket';

export interface WebhookTarget {
  url: string;
  /** Signs deliveries with HMAC-SHA256 when set, as Bitbucket does for webhooks with a secret. */
  secret?: string;
}

export interface Delivery {
  requestId: string;
  eventKey: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  /** The receiver's HTTP status, or undefined when the delivery failed (see `error`). */
  status?: number;
  responseBody?: string;
  error?: string;
  at: number;
}

/** Bitbucket gives receivers 10 s before counting the delivery as failed (docs/architecture.md §5). */
const DELIVERY_TIMEOUT_MS = 10_000;

/** POSTs one webhook the way Bitbucket does: exact header set, raw JSON body, optional signature. */
export async function deliver(
  target: WebhookTarget,
  eventKey: string,
  payload: unknown,
  userAgent: string,
  now: () => number = Date.now,
): Promise<Delivery> {
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = {
    'X-Event-Key': eventKey,
    'X-Request-Id': randomUUID(),
    'Content-Type': 'application/json; charset=utf-8',
    'User-Agent': userAgent,
  };
  // Bitbucket sends the "Test connection" ping unsigned (docs/architecture.md §5).
  if (target.secret && eventKey !== 'diagnostics:ping')
    headers['X-Hub-Signature'] = sign(target.secret, body);
  const delivery: Delivery = {
    requestId: headers['X-Request-Id']!,
    eventKey,
    url: target.url,
    headers,
    body,
    at: now(),
  };
  try {
    const answer = await post(target.url, headers, body);
    delivery.status = answer.status;
    delivery.responseBody = answer.body;
  } catch (err) {
    delivery.error = err instanceof Error ? err.message : String(err);
  }
  return delivery;
}

function post(
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const transport = target.protocol === 'https:' ? https : http;
    const req = transport.request(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) },
        timeout: DELIVERY_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${DELIVERY_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
