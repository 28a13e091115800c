import type Joi from 'joi';
import type { AppError } from '@stacklink/errors';

export interface InternalClientOptions {
  /** Base URL of the service, e.g. http://127.0.0.1:8081; a trailing slash is ignored. */
  baseUrl: string;
  /** The bearer token: INTERNAL_TOKEN, or GATEWAY_TOKEN for the gateway (webhook secrets only). */
  internalToken: string;
  timeoutMs?: number;
}

/** How a client names each way a call can fail; each API keeps the codes its callers rely on. */
export interface CallFailures {
  /** No answer: refused, reset, or timed out. */
  unreachable(cause: unknown): AppError;
  /** An answer other than 2xx (and other than 404 when the caller takes 404 as an answer). */
  answered(status: number): AppError;
  /** A 2xx whose body does not match the answer's schema. */
  invalid(why: string): AppError;
}

export interface CallOptions {
  body?: unknown;
  /** 404 resolves with undefined instead of failing. */
  notFoundIsAnswer?: boolean;
}

/**
 * One call to an internal API (`/internal/v1`, docs/architecture.md §4): bearer auth, JSON, a timeout;
 * the answer is checked against `schema` (fields it does not name are tolerated, nothing is coerced).
 */
export async function callInternal<T>(
  options: InternalClientOptions & { defaultTimeoutMs: number },
  path: string,
  schema: Joi.Schema,
  failures: CallFailures,
  call: CallOptions = {},
): Promise<T | undefined> {
  const { body } = call;
  let res: Response;
  try {
    res = await fetch(`${options.baseUrl.replace(/\/+$/, '')}/internal/v1/${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${options.internalToken}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(options.timeoutMs ?? options.defaultTimeoutMs),
    });
  } catch (err) {
    throw failures.unreachable(err);
  }
  if (!res.ok) {
    // Let the connection go back to the pool without reading a body we do not need.
    await res.body?.cancel();
    if (res.status === 404 && call.notFoundIsAnswer) return undefined;
    throw failures.answered(res.status);
  }
  const answer: unknown = await res.json().catch(() => undefined);
  const result = schema.validate(answer, { allowUnknown: true, convert: false });
  if (result.error) throw failures.invalid(result.error.message);
  return result.value as T;
}
