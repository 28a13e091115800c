import { AppError } from '@stacklink/errors';
import type { RunsApi } from '../domain/ports';

/**
 * stack-trigger's public runs API, as any runner calls it (README "Runner contract"). 5xx and network
 * failures are retryable AppErrors; other answers but 2xx and 409 are not. Authenticates with RUNNER_TOKEN.
 */
export function createRunsApi(options: {
  baseUrl: string;
  runnerToken: string;
  timeoutMs?: number;
}): RunsApi {
  const base = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;

  async function post(path: string, body?: unknown): Promise<boolean> {
    let res: Response;
    try {
      res = await fetch(`${base}/api/v1${path}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${options.runnerToken}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new AppError('RUNNER.STACK_TRIGGER_UNAVAILABLE', 'stack-trigger did not answer', {
        status: 503,
        retryable: true,
        cause: err,
      });
    }
    const text = await res.text();
    if (res.ok) return true;
    if (res.status === 409) return false;
    throw new AppError(
      'RUNNER.REPORT_FAILED',
      `stack-trigger answered ${res.status} to POST ${path}: ${text.slice(0, 300)}`,
      {
        status: 502,
        retryable: res.status >= 500 || res.status === 429,
      },
    );
  }

  return {
    reportState: (runId, state, note, summary) =>
      post(`/runs/${encodeURIComponent(runId)}/state`, {
        state,
        ...(note === undefined ? {} : { note }),
        ...(summary === undefined ? {} : { summary }),
      }),
    renewLease: (runId) => post(`/runs/${encodeURIComponent(runId)}/lease`),
  };
}
