import { AppError, toAppError } from './app-error';

/** The smallest logger shape handleError needs, so this lib stays free of winston. */
export interface ErrorLogger {
  error(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
}

export interface HandledError {
  error: AppError;
  /** HTTP status to answer with (500 for anything without one). */
  status: number;
  /** The body to send: `{error: {code, message, details?}}`. Internal errors are not described. */
  body: { error: { code: string; message: string; details?: unknown } };
}

/**
 * One place that turns any thrown value into a logged AppError and the answer to give. Used by the
 * express error middleware, the consumer wrapper and the process listeners (STYLE.md "Errors").
 */
export function handleError(
  err: unknown,
  logger: ErrorLogger,
  context: Record<string, unknown> = {},
): HandledError {
  const error = toAppError(err);
  const status = error.status ?? 500;
  const meta = { ...context, code: error.code, retryable: error.retryable, err: describeCause(error) };
  if (status >= 500) logger.error(error.message, meta);
  else logger.warn(error.message, meta);
  const internal = status >= 500 && error.code.startsWith('INTERNAL.');
  const body = internal
    ? { error: { code: error.code, message: 'internal error' } }
    : { error: error.toJSON() };
  return { error, status, body };
}

function describeCause(error: AppError): Record<string, unknown> | undefined {
  const cause = error.cause;
  if (cause === undefined) return { stack: error.stack };
  if (cause instanceof Error) return { stack: error.stack, cause: cause.message, causeStack: cause.stack };
  return { stack: error.stack, cause: typeof cause === 'string' ? cause : JSON.stringify(cause) };
}
