import { isAppError } from '@stacklink/errors';
import type { WaitPolicy } from './types';

export const HEADERS = {
  attempt: 'x-attempt',
  errorCode: 'x-error-code',
  errorMessage: 'x-error-message',
  attempts: 'x-attempts',
  originalExchange: 'x-original-exchange',
  originalRoutingKey: 'x-original-routing-key',
  firstFailedAt: 'x-first-failed-at',
  lastErrorCode: 'x-last-error-code',
  lastErrorMessage: 'x-last-error-message',
  /** When the message first waited for a dependency that was down (ISO date); drives the wait horizon. */
  waitingSince: 'x-waiting-since',
  /** Ties a basic.return to the publish it answers; stripped before handlers see the headers. */
  publishId: 'x-stacklink-publish-id',
} as const;

/** Headers the broker or this bus owns; never copied from one message to its retry or parked copy. */
const TRANSIENT = new Set<string>([
  HEADERS.publishId,
  'x-death',
  'x-first-death-exchange',
  'x-first-death-queue',
  'x-first-death-reason',
  'x-delivery-count',
]);

const MAX_ERROR_MESSAGE_LENGTH = 1000;

export interface FailureDescription {
  code: string;
  message: string;
}

export function describeFailure(err: unknown): FailureDescription {
  const code = isAppError(err) ? err.code : 'HANDLER.FAILED';
  const raw = err instanceof Error ? err.message : String(err);
  return {
    code,
    message: raw.length > MAX_ERROR_MESSAGE_LENGTH ? `${raw.slice(0, MAX_ERROR_MESSAGE_LENGTH)}…` : raw,
  };
}

export function attemptOf(headers: Record<string, unknown> | undefined): number {
  const value = Number(headers?.[HEADERS.attempt]);
  return Number.isInteger(value) && value >= 1 ? value : 1;
}

export function stringHeader(headers: Record<string, unknown> | undefined, name: string): string | undefined {
  const value = headers?.[name];
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString();
  return undefined;
}

export function withoutTransient(headers: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(headers ?? {})) if (!TRANSIENT.has(key)) out[key] = value;
  return out;
}

/** Where a message came from the first time, which a retry (routed via the default exchange) would hide. */
export interface Origin {
  exchange: string;
  routingKey: string;
}

export function originOf(headers: Record<string, unknown> | undefined, delivered: Origin): Origin {
  return {
    exchange: stringHeader(headers, HEADERS.originalExchange) ?? delivered.exchange,
    routingKey: stringHeader(headers, HEADERS.originalRoutingKey) ?? delivered.routingKey,
  };
}

export type FailureDecision =
  { action: 'retry'; delayMs: number } | { action: 'wait'; delayMs: number } | { action: 'dead-letter' };

/**
 * The "wait" flag a handler's error may carry: `waitMs` (a number) says "what I depend on is down, try
 * me again in about this long, and do not count this as a failed attempt" (e.g. BITBUCKET.HOST_DOWN).
 */
export function waitHintOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const waitMs = (err as { waitMs?: unknown }).waitMs;
  return typeof waitMs === 'number' && Number.isFinite(waitMs) && waitMs >= 0 ? waitMs : undefined;
}

/**
 * A failure with a wait hint on a queue with a wait policy waits `policy.delayMs` without counting the
 * attempt — until `horizonMs` after its first wait, when the message is parked. The hint's value is
 * not used for the delay: one delay keeps the waiting messages in their order (see WaitPolicy).
 */
export function decideWait(
  err: unknown,
  headers: Record<string, unknown> | undefined,
  policy: WaitPolicy | undefined,
  now: Date,
): FailureDecision | undefined {
  if (waitHintOf(err) === undefined || policy === undefined) return undefined;
  const since = Date.parse(stringHeader(headers, HEADERS.waitingSince) ?? '');
  if (!Number.isNaN(since) && now.getTime() - since >= policy.horizonMs) return { action: 'dead-letter' };
  return { action: 'wait', delayMs: policy.delayMs };
}

/** The copy of a waiting message: same attempt, the time it first waited kept. */
export function waitHeaders(ctx: CopyContext): Record<string, unknown> {
  return {
    ...withoutTransient(ctx.headers),
    [HEADERS.attempt]: ctx.attempt,
    [HEADERS.originalExchange]: ctx.origin.exchange,
    [HEADERS.originalRoutingKey]: ctx.origin.routingKey,
    [HEADERS.waitingSince]: stringHeader(ctx.headers, HEADERS.waitingSince) ?? ctx.now.toISOString(),
    [HEADERS.lastErrorCode]: ctx.failure.code,
    [HEADERS.lastErrorMessage]: ctx.failure.message,
  };
}

/**
 * A non-retryable AppError is parked at once (trying again cannot help); anything else is retried
 * while delays remain. Attempt n (1-based) failing waits delaysMs[n-1] before attempt n+1.
 */
export function decideFailure(err: unknown, attempt: number, delaysMs: readonly number[]): FailureDecision {
  if (isAppError(err) && err.retryable === false) return { action: 'dead-letter' };
  const delayMs = delaysMs[attempt - 1];
  return delayMs === undefined ? { action: 'dead-letter' } : { action: 'retry', delayMs };
}

export interface CopyContext {
  headers: Record<string, unknown> | undefined;
  attempt: number;
  origin: Origin;
  failure: FailureDescription;
  now: Date;
}

export function retryHeaders(ctx: CopyContext): Record<string, unknown> {
  const base = withoutTransient(ctx.headers);
  // An ordinary failure ends a wait: a later outage starts a fresh horizon.
  delete base[HEADERS.waitingSince];
  return {
    ...base,
    [HEADERS.attempt]: ctx.attempt + 1,
    [HEADERS.originalExchange]: ctx.origin.exchange,
    [HEADERS.originalRoutingKey]: ctx.origin.routingKey,
    [HEADERS.firstFailedAt]: stringHeader(ctx.headers, HEADERS.firstFailedAt) ?? ctx.now.toISOString(),
    [HEADERS.lastErrorCode]: ctx.failure.code,
    [HEADERS.lastErrorMessage]: ctx.failure.message,
  };
}

export function deadLetterHeaders(ctx: CopyContext): Record<string, unknown> {
  const base = withoutTransient(ctx.headers);
  delete base[HEADERS.lastErrorCode];
  delete base[HEADERS.lastErrorMessage];
  return {
    ...base,
    [HEADERS.errorCode]: ctx.failure.code,
    [HEADERS.errorMessage]: ctx.failure.message,
    [HEADERS.attempts]: ctx.attempt,
    [HEADERS.originalExchange]: ctx.origin.exchange,
    [HEADERS.originalRoutingKey]: ctx.origin.routingKey,
    [HEADERS.firstFailedAt]: stringHeader(ctx.headers, HEADERS.firstFailedAt) ?? ctx.now.toISOString(),
  };
}

/** A parked message sent back for another go starts over as a first attempt from its origin. */
export function replayHeaders(headers: Record<string, unknown> | undefined): Record<string, unknown> {
  const out = withoutTransient(headers);
  for (const name of [
    HEADERS.attempt,
    HEADERS.errorCode,
    HEADERS.errorMessage,
    HEADERS.attempts,
    HEADERS.firstFailedAt,
    HEADERS.lastErrorCode,
    HEADERS.lastErrorMessage,
    HEADERS.waitingSince,
  ])
    delete out[name];
  return out;
}
