import { AppError } from '@stacklink/errors';
import type { StackUsage, StackUsagePort } from '../domain/ports';

export interface HttpStackUsageOptions {
  /** STACK_TRIGGER_URL, e.g. http://127.0.0.1:8082 */
  baseUrl: string;
  internalToken: string;
  timeoutMs?: number;
}

/**
 * Asks stack-trigger's internal API (`GET /internal/v1/stacks?integrationId=`, docs/architecture.md §4) which
 * stacks use an integration, and disables them (`POST /internal/v1/stacks/disable?integrationId=`)
 * when the integration is deleted anyway. Both answer `{stacks: [{id, name, …}]}`. Any failure to get
 * a clear answer is STACK_TRIGGER.UNAVAILABLE (503): the caller must not delete blindly.
 */
export function createHttpStackUsage(options: HttpStackUsageOptions): StackUsagePort {
  const base = options.baseUrl.replace(/\/+$/, '');
  const call = async (path: string, integrationId: string, body?: unknown): Promise<StackUsage[]> => {
    const url = `${base}/internal/v1/${path}?integrationId=${encodeURIComponent(integrationId)}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: body === undefined ? 'GET' : 'POST',
        headers: {
          authorization: `Bearer ${options.internalToken}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      });
    } catch (err) {
      throw unavailable(`stack-trigger at ${base} cannot be reached`, err);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw unavailable(`stack-trigger at ${base} answered ${res.status}`);
    }
    const answer: unknown = await res.json().catch(() => undefined);
    const list = Array.isArray(answer) ? answer : (answer as { stacks?: unknown } | undefined)?.stacks;
    if (!Array.isArray(list)) throw unavailable(`stack-trigger at ${base} answered without a stacks list`);
    return list.map((s): StackUsage => {
      const o = s as { id?: unknown; name?: unknown };
      return { id: String(o.id), name: typeof o.name === 'string' ? o.name : String(o.id) };
    });
  };
  return {
    stacksUsing: (integrationId) => call('stacks', integrationId),
    disableStacksUsing: (integrationId, reason) => call('stacks/disable', integrationId, { reason }),
  };
}

function unavailable(message: string, cause?: unknown): AppError {
  return new AppError(
    'STACK_TRIGGER.UNAVAILABLE',
    `${message}, so it is unknown whether stacks still use this integration; nothing was deleted. Try again later, or delete with ?force=true.`,
    { status: 503, retryable: true, cause },
  );
}
