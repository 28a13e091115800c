import type Joi from 'joi';
import { AppError } from '@stacklink/errors';

export interface InternalClientOptions {
  /** Base URL of the service, e.g. http://127.0.0.1:8081; a trailing slash is ignored. */
  baseUrl: string;
  /** INTERNAL_TOKEN, sent as a bearer token. */
  internalToken: string;
  timeoutMs?: number;
}

/** How a client names the ways a call can fail; each API keeps the codes its callers rely on. */
export interface FailureMapping {
  /** Unreachable, timed out, or an answer the client cannot use (retryable). */
  unavailable(message: string, cause?: unknown): AppError;
}

/**
 * One call to an internal API (`/internal/v1`, docs/architecture.md §4): bearer auth, JSON, a timeout.
 * Resolves with the response, whatever its status; a network failure or timeout is `unavailable`.
 */
export async function callInternal(
  options: InternalClientOptions & { defaultTimeoutMs: number },
  path: string,
  failures: FailureMapping,
  body?: unknown,
): Promise<Response> {
  const base = options.baseUrl.replace(/\/+$/, '');
  try {
    return await fetch(`${base}/internal/v1/${path}`, {
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
    throw failures.unavailable(`${base} cannot be reached`, err);
  }
}

/** The parsed JSON body, or undefined when it is not JSON. */
export async function jsonBody(res: Response): Promise<unknown> {
  return res.json().catch(() => undefined);
}

/** Lets the connection go back to the pool without reading a body we do not need. */
export async function discardBody(res: Response): Promise<void> {
  await res.body?.cancel();
}

/** An answer checked against its schema (unknown fields tolerated, nothing coerced), or why it is not one. */
export function checkAnswer<T>(
  schema: Joi.Schema,
  answer: unknown,
): { value: T; error?: undefined } | { value?: undefined; error: string } {
  const result = schema.validate(answer, { allowUnknown: true, convert: false });
  return result.error ? { error: result.error.message } : { value: result.value as T };
}
