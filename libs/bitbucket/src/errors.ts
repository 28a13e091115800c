import { AppError } from '@stacklink/errors';
import type { RetryHint } from './retry';

/**
 * Distinct codes so the integration connection test can turn each into advice an operator can act on.
 */
export const BitbucketErrorCode = {
  UNAUTHORIZED: 'BITBUCKET.UNAUTHORIZED',
  FORBIDDEN: 'BITBUCKET.FORBIDDEN',
  NOT_FOUND: 'BITBUCKET.NOT_FOUND',
  CONFLICT: 'BITBUCKET.CONFLICT',
  BAD_REQUEST: 'BITBUCKET.BAD_REQUEST',
  RATE_LIMITED: 'BITBUCKET.RATE_LIMITED',
  SERVER_ERROR: 'BITBUCKET.SERVER_ERROR',
  UNREACHABLE: 'BITBUCKET.UNREACHABLE',
  TLS: 'BITBUCKET.TLS',
  NOT_BITBUCKET: 'BITBUCKET.NOT_BITBUCKET',
  REDIRECTED: 'BITBUCKET.REDIRECTED',
  REQUEST_FAILED: 'BITBUCKET.REQUEST_FAILED',
  /** Not a call that failed: the host is resting after repeated failures (see host-gate.ts). */
  HOST_DOWN: 'BITBUCKET.HOST_DOWN',
} as const;

export type BitbucketErrorCode = (typeof BitbucketErrorCode)[keyof typeof BitbucketErrorCode];

export interface BitbucketErrorDetails {
  /** HTTP status, when Bitbucket (or something at its address) answered. */
  status?: number;
  /** Bitbucket's own messages from `{errors: [{message}]}`. */
  messages: string[];
  /** Bitbucket's exception names, e.g. com.atlassian.bitbucket.repository.NoSuchRepositoryException. */
  exceptionNames: string[];
  method: string;
  path: string;
  /** How many tries were made before giving up (set by the retry loop). */
  attempts?: number;
  retryAfterMs?: number;
  /** Node's error code for network and TLS failures (ECONNREFUSED, UNABLE_TO_VERIFY_LEAF_SIGNATURE…). */
  cause?: string;
  /**
   * Set on a failed write when one of its tries was sent and never answered (timeout, connection reset):
   * Bitbucket may still apply that request, later than anything sent after it (see `mayHaveLanded`).
   */
  unanswered?: boolean;
  location?: string;
}

/**
 * `waitMs` is set when the host is down: a queue consumer should delay the message by about that long
 * without counting an attempt (libs/bus `waitHintOf`).
 */
export type BitbucketError = AppError & RetryHint & { details: BitbucketErrorDetails; waitMs?: number };

export function bitbucketError(
  code: BitbucketErrorCode,
  message: string,
  details: BitbucketErrorDetails,
  options: { retryable?: boolean; status?: number; cause?: unknown } = {},
): BitbucketError {
  const err = new AppError(code, message, {
    status: options.status ?? 502,
    retryable: options.retryable ?? false,
    details,
    cause: options.cause,
  }) as BitbucketError;
  if (details.retryAfterMs !== undefined) err.retryAfterMs = details.retryAfterMs;
  return err;
}

/** Reads Bitbucket's `{errors: [{message, exceptionName}]}` body; anything else gives empty lists. */
export function readErrorBody(body: string): { messages: string[]; exceptionNames: string[] } {
  try {
    const parsed = JSON.parse(body) as unknown;
    const errors = (parsed as { errors?: unknown }).errors;
    if (Array.isArray(errors)) {
      const items = errors.filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null);
      return {
        messages: items.map((e) => e.message).filter((m): m is string => typeof m === 'string'),
        exceptionNames: items.map((e) => e.exceptionName).filter((m): m is string => typeof m === 'string'),
      };
    }
    const message = (parsed as { message?: unknown }).message;
    if (typeof message === 'string') return { messages: [message], exceptionNames: [] };
  } catch {
    // not JSON: no messages to pass on
  }
  return { messages: [], exceptionNames: [] };
}

/** What a failure without an HTTP answer was, from Node's error code. */
export type NetworkFailure =
  | 'dns'
  | 'connection_refused'
  | 'timeout'
  | 'unroutable'
  | 'connection_reset'
  | 'tls_hostname'
  | 'tls_expired'
  | 'tls_untrusted';

// The one list of Node's network and TLS codes: the client decides from it whether to try again, the
// integration service which advice to give. `retryable`: worth trying again later.
const NETWORK_CODES: ReadonlyMap<string, { failure: NetworkFailure; retryable: boolean }> = new Map(
  (
    [
      ['ENOTFOUND', 'dns', true],
      ['EAI_AGAIN', 'dns', true],
      ['EAI_NONAME', 'dns', false],
      ['EAI_FAIL', 'dns', false],
      ['ECONNREFUSED', 'connection_refused', true],
      ['ECONNABORTED', 'timeout', true],
      ['ERR_CANCELED', 'timeout', true],
      ['ETIMEDOUT', 'timeout', true],
      ['ABORT_ERR', 'timeout', true],
      ['ESOCKETTIMEDOUT', 'timeout', false],
      ['UND_ERR_CONNECT_TIMEOUT', 'timeout', false],
      ['UND_ERR_HEADERS_TIMEOUT', 'timeout', false],
      ['TIMEOUT', 'timeout', false],
      ['EHOSTUNREACH', 'unroutable', true],
      ['ENETUNREACH', 'unroutable', true],
      ['EHOSTDOWN', 'unroutable', false],
      ['ENETDOWN', 'unroutable', false],
      ['ECONNRESET', 'connection_reset', true],
      ['EPIPE', 'connection_reset', true],
      ['UND_ERR_SOCKET', 'connection_reset', true],
      ['ERR_TLS_CERT_ALTNAME_INVALID', 'tls_hostname', false],
      ['CERT_HAS_EXPIRED', 'tls_expired', false],
      ['CERT_NOT_YET_VALID', 'tls_expired', false],
      ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'tls_untrusted', false],
      ['UNABLE_TO_GET_ISSUER_CERT', 'tls_untrusted', false],
      ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'tls_untrusted', false],
      ['SELF_SIGNED_CERT_IN_CHAIN', 'tls_untrusted', false],
      ['DEPTH_ZERO_SELF_SIGNED_CERT', 'tls_untrusted', false],
      ['CERT_UNTRUSTED', 'tls_untrusted', false],
      ['CERT_REJECTED', 'tls_untrusted', false],
      ['CERT_SIGNATURE_FAILURE', 'tls_untrusted', false],
      ['EPROTO', 'tls_untrusted', false],
      ['ERR_SSL_WRONG_VERSION_NUMBER', 'tls_untrusted', false],
    ] as const
  ).map(([code, failure, retryable]) => [code, { failure, retryable }]),
);

/**
 * Whether a failed call may still take effect in Bitbucket: a write one of whose tries went out and got no
 * answer. A caller that orders its writes (the reporter's latest-state-wins) must not let a newer one
 * overtake it until that request can no longer land.
 */
export function mayHaveLanded(err: unknown): boolean {
  if (!(err instanceof AppError) || typeof err.details !== 'object' || err.details === null) return false;
  return (err.details as BitbucketErrorDetails).unanswered === true;
}

/** A failure after which the request may have reached the server: it timed out or the connection reset. */
export function wentUnanswered(err: unknown): boolean {
  if (!(err instanceof AppError)) return false;
  // The try that took the host down is carried as the cause of the HOST_DOWN error.
  if (err.code === BitbucketErrorCode.HOST_DOWN) return wentUnanswered(err.cause);
  if (err.code !== BitbucketErrorCode.UNREACHABLE) return false;
  const failure = networkFailureOf((err.details as BitbucketErrorDetails | undefined)?.cause ?? '');
  return failure === 'timeout' || failure === 'connection_reset';
}

/** What Node's error code (ECONNREFUSED, CERT_HAS_EXPIRED…) says happened; undefined for other codes. */
export function networkFailureOf(code: string): NetworkFailure | undefined {
  return NETWORK_CODES.get(code)?.failure;
}

function isTls(failure: NetworkFailure | undefined): boolean {
  return failure === 'tls_hostname' || failure === 'tls_expired' || failure === 'tls_untrusted';
}

/** Maps a failure without an HTTP answer (DNS, refused, timeout, TLS) to an AppError. */
export function networkError(
  err: unknown,
  where: { method: string; path: string; origin: string; timeoutMs: number },
): BitbucketError {
  const code = networkCode(err);
  const details: BitbucketErrorDetails = {
    messages: [],
    exceptionNames: [],
    method: where.method,
    path: where.path,
    cause: code,
  };
  const known = NETWORK_CODES.get(code);
  if (isTls(known?.failure) || /certificate|ssl|tls/i.test(errorMessage(err))) {
    return bitbucketError(
      BitbucketErrorCode.TLS,
      `the TLS certificate of ${where.origin} could not be verified (${code}): set the CA certificate of the ` +
        `integration to the authority that signed the Bitbucket server's certificate`,
      details,
      { cause: err },
    );
  }
  const retryable = known?.retryable ?? false;
  const timedOut = retryable && known?.failure === 'timeout';
  const reason = timedOut ? `did not answer within ${where.timeoutMs} ms` : `could not be reached (${code})`;
  return bitbucketError(BitbucketErrorCode.UNREACHABLE, `Bitbucket at ${where.origin} ${reason}`, details, {
    retryable,
    status: 502,
    cause: err,
  });
}

function networkCode(err: unknown): string {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'ERR_BAD_RESPONSE' && code !== 'ERR_BAD_REQUEST') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return 'UNKNOWN';
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The one classification of what says "the host is down" rather than "this request is wrong": a
 * connection failure, DNS failure or timeout that is worth retrying, or a 5xx. TLS and 4xx are not:
 * the host answered (or is misconfigured, which waiting cannot fix).
 */
export function isHostFailure(err: unknown): boolean {
  if (!(err instanceof AppError) || !err.retryable) return false;
  return err.code === BitbucketErrorCode.UNREACHABLE || err.code === BitbucketErrorCode.SERVER_ERROR;
}

/** The error a call gets without being sent, while its host rests; retryable, with a wait hint. */
export function hostDownError(
  origin: string,
  where: { method: string; path: string },
  retryInMs: number,
  cause?: BitbucketError,
): BitbucketError {
  const err = bitbucketError(
    BitbucketErrorCode.HOST_DOWN,
    `Bitbucket at ${origin} is down; calls pause, next probe in ${Math.ceil(retryInMs / 1000)} s` +
      (cause ? ` (last: ${cause.message})` : ''),
    {
      messages: [],
      exceptionNames: [],
      method: where.method,
      path: where.path,
      ...(cause?.details.status === undefined ? {} : { status: cause.details.status }),
      ...(cause?.details.cause === undefined ? {} : { cause: cause.details.cause }),
    },
    { retryable: true, status: 503, cause },
  );
  err.waitMs = retryInMs;
  return err;
}

/** Maps a non-2xx answer to an AppError that carries the status and Bitbucket's messages. */
export function statusError(
  status: number,
  body: string,
  where: { method: string; path: string; origin: string },
  retryAfterMs: number | undefined,
): BitbucketError {
  const { messages, exceptionNames } = readErrorBody(body);
  const details: BitbucketErrorDetails = {
    status,
    messages,
    exceptionNames,
    method: where.method,
    path: where.path,
  };
  const said = messages.length > 0 ? `: ${messages.join('; ')}` : '';
  if (status === 401) {
    return bitbucketError(
      BitbucketErrorCode.UNAUTHORIZED,
      `Bitbucket at ${where.origin} did not accept the access token (401)${said}`,
      details,
    );
  }
  if (status === 403) {
    return bitbucketError(
      BitbucketErrorCode.FORBIDDEN,
      `the access token lacks the permission for ${where.method} ${where.path} (403)${said}`,
      details,
    );
  }
  if (status === 404) {
    return bitbucketError(
      BitbucketErrorCode.NOT_FOUND,
      `${where.method} ${where.path} was not found (404)${said}`,
      details,
      {
        status: 404,
      },
    );
  }
  if (status === 409) {
    return bitbucketError(
      BitbucketErrorCode.CONFLICT,
      `${where.method} ${where.path} conflicts (409)${said}`,
      details,
      {
        status: 409,
      },
    );
  }
  if (status === 429) {
    if (retryAfterMs !== undefined) details.retryAfterMs = retryAfterMs;
    return bitbucketError(
      BitbucketErrorCode.RATE_LIMITED,
      `Bitbucket rate-limited ${where.method} ${where.path} (429)${said}`,
      details,
      {
        retryable: true,
        status: 503,
      },
    );
  }
  if (status === 408) {
    // The server gave up waiting for the request: nothing was done, trying again can work.
    return bitbucketError(
      BitbucketErrorCode.REQUEST_FAILED,
      `Bitbucket timed out ${where.method} ${where.path} (408)${said}`,
      details,
      { retryable: true, status: 504 },
    );
  }
  if (status >= 500) {
    return bitbucketError(
      BitbucketErrorCode.SERVER_ERROR,
      `Bitbucket answered ${status} to ${where.method} ${where.path}${said}`,
      details,
      { retryable: true },
    );
  }
  if (status >= 300 && status < 400) {
    return bitbucketError(
      BitbucketErrorCode.REDIRECTED,
      `${where.origin} redirects ${where.path} (${status}); set the base URL to the address Bitbucket itself uses`,
      details,
    );
  }
  const code = status === 400 ? BitbucketErrorCode.BAD_REQUEST : BitbucketErrorCode.REQUEST_FAILED;
  return bitbucketError(code, `Bitbucket refused ${where.method} ${where.path} (${status})${said}`, details);
}
