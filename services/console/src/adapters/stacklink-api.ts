import { AppError } from '@stacklink/errors';

export type ApiTarget = 'integration' | 'stack-trigger' | 'stack-trigger-internal';

/** A field the API named in a 400 (`error.details.fields`), shown next to that field. */
export interface FieldError {
  field: string;
  message: string;
}

/** An answer of the APIs other than 2xx, with what the page needs to show it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: FieldError[] = [],
  ) {
    super(message);
  }
}

export interface StacklinkApi {
  call<T>(target: ApiTarget, method: string, path: string, body?: unknown): Promise<T>;
  /** An open response (for the log stream), with its abort. */
  stream(path: string, headers: Record<string, string>, signal: AbortSignal): Promise<Response>;
}

/**
 * The console's server-side client of the public APIs (docs/architecture.md §4): ADMIN_TOKEN on
 * `/api/v1`, INTERNAL_TOKEN on stack-trigger's `/internal/v1` (the dead letters). Neither token leaves
 * this process: the browser holds only its session cookie.
 */
export function createStacklinkApi(options: {
  integrationUrl: string;
  stackTriggerUrl: string;
  adminToken: string;
  internalToken: string;
  timeoutMs: number;
}): StacklinkApi {
  const base = (target: ApiTarget) =>
    ({
      integration: `${options.integrationUrl}/api/v1`,
      'stack-trigger': `${options.stackTriggerUrl}/api/v1`,
      'stack-trigger-internal': `${options.stackTriggerUrl}/internal/v1`,
    })[target];
  const token = (target: ApiTarget) =>
    target.endsWith('-internal') ? options.internalToken : options.adminToken;
  return {
    async call<T>(target: ApiTarget, method: string, path: string, body?: unknown): Promise<T> {
      let res: Response;
      try {
        res = await fetch(`${base(target)}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token(target)}`,
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(options.timeoutMs),
        });
      } catch (err) {
        throw new AppError('CONSOLE.API_UNAVAILABLE', `the ${target} API did not answer`, {
          status: 502,
          retryable: true,
          cause: err,
        });
      }
      const text = await res.text();
      let parsed: unknown = undefined;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      if (res.ok) return parsed as T;
      const error = (parsed as { error?: { code?: string; message?: string; details?: unknown } })?.error;
      const fields = (error?.details as { fields?: FieldError[] } | undefined)?.fields ?? [];
      throw new ApiError(
        res.status,
        error?.code ?? 'HTTP.ERROR',
        error?.message ?? `the ${target} API answered ${res.status}`,
        fields,
      );
    },
    stream(path, headers, signal) {
      return fetch(`${options.stackTriggerUrl}/api/v1${path}`, {
        headers: { authorization: `Bearer ${options.adminToken}`, accept: 'text/event-stream', ...headers },
        signal,
      });
    },
  };
}
