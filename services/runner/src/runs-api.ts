import { AppError } from '@stacklink/errors';

export type ReportedState = 'RUNNING' | 'FINISHED' | 'FAILED';

export interface RunsApi {
  /** False when stack-trigger answers 409: the run is no longer in a state that allows this one. */
  reportState(runId: string, state: ReportedState, note?: string): Promise<boolean>;
  /** False when the run has no lease any more (canceled, finished, or taken back). */
  renewLease(runId: string): Promise<boolean>;
}

/**
 * stack-trigger's public runs API, as any runner calls it (README "Runner contract"). 5xx and network
 * failures are retryable AppErrors; other answers but 2xx and 409 are not.
 */
export function createRunsApi(options: { baseUrl: string; adminToken: string; timeoutMs?: number }): RunsApi {
  const base = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;

  async function post(path: string, body?: unknown): Promise<boolean> {
    let res: Response;
    try {
      res = await fetch(`${base}/api/v1${path}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${options.adminToken}`,
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
    reportState: (runId, state, note) =>
      post(`/runs/${encodeURIComponent(runId)}/state`, note === undefined ? { state } : { state, note }),
    renewLease: (runId) => post(`/runs/${encodeURIComponent(runId)}/lease`),
  };
}
