import { AppError } from '@stacklink/errors';

export interface RetryOptions {
  /** Tries in total, the first included. */
  maxAttempts: number;
  /** First backoff step; doubles every try, with jitter. */
  baseDelayMs: number;
  /** Upper bound of one backoff step. */
  maxDelayMs: number;
  /** Time budget for all tries and waits; a Retry-After beyond it is not waited for. */
  maxTotalMs: number;
}

export const DEFAULT_RETRY: RetryOptions = {
  maxAttempts: 4,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  maxTotalMs: 30_000,
};

export interface RetryRuntime {
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  random: () => number;
}

/** Exponential backoff with "equal jitter": half the step fixed, half random, so waits never collapse to 0. */
export function backoffDelay(attempt: number, options: RetryOptions, random: () => number): number {
  const step = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

/** Reads `Retry-After` (seconds, or an HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Attached by the client to errors from a 429 so the retry loop can honour the server's wait. */
export interface RetryHint {
  retryAfterMs?: number;
}

/**
 * Runs `attempt` until it succeeds, throws a non-retryable AppError, runs out of tries, or the next
 * wait would cross the time budget. The last error is thrown, with `details.attempts` added.
 */
export async function withRetry<T>(
  attempt: (n: number) => Promise<T>,
  options: RetryOptions,
  runtime: RetryRuntime,
  shouldRetry: (err: AppError) => boolean = (err) => err.retryable,
): Promise<T> {
  const started = runtime.now();
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (!(err instanceof AppError) || !shouldRetry(err) || n >= options.maxAttempts) throw annotate(err, n);
      const hint = (err as AppError & RetryHint).retryAfterMs;
      const wait = hint ?? backoffDelay(n, options, runtime.random);
      if (runtime.now() - started + wait > options.maxTotalMs) throw annotate(err, n);
      await runtime.sleep(wait);
    }
  }
}

function annotate(err: unknown, attempts: number): unknown {
  if (err instanceof AppError && typeof err.details === 'object' && err.details !== null) {
    (err.details as Record<string, unknown>).attempts = attempts;
  }
  return err;
}
