/**
 * The one error type of Stacklink. `code` is dotted (`WEBHOOK.INVALID_SIGNATURE`) and is what crosses
 * process boundaries (HTTP bodies, AMQP headers); `instanceof` never does.
 */
export interface AppErrorOptions {
  /** HTTP status to answer with when this error reaches an HTTP boundary. */
  status?: number;
  /** True when trying the same thing again later may succeed (broker down, 5xx, timeout). */
  retryable?: boolean;
  /** Structured details for the client, e.g. the validation errors per field. Never secrets. */
  details?: unknown;
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: string;
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly details: unknown;

  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = options.status;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }

  /** The serialisable form used in HTTP bodies and AMQP headers. */
  toJSON(): { code: string; message: string; details?: unknown } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export function isAppError(err: unknown): err is AppError {
  return (
    err instanceof AppError ||
    (typeof err === 'object' &&
      err !== null &&
      (err as { name?: unknown }).name === 'AppError' &&
      typeof (err as { code?: unknown }).code === 'string')
  );
}

/** Wraps anything thrown into an AppError, keeping AppErrors as they are. */
export function toAppError(err: unknown, fallbackCode = 'INTERNAL.UNEXPECTED'): AppError {
  if (isAppError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new AppError(fallbackCode, message, { status: 500, cause: err });
}
