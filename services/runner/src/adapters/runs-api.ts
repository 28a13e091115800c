import { AppError } from '@stacklink/errors';
import { runLogsPath } from '@stacklink/contracts';
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

  /** The answer's status and text; a retryable AppError when stack-trigger did not answer. */
  async function send(path: string, body?: unknown): Promise<{ status: number; text: string }> {
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
    return { status: res.status, text: await res.text() };
  }

  function failed(path: string, status: number, text: string): AppError {
    return new AppError(
      'RUNNER.REPORT_FAILED',
      `stack-trigger answered ${status} to POST ${path}: ${text.slice(0, 300)}`,
      {
        status: 502,
        retryable: status >= 500 || status === 429,
      },
    );
  }

  async function post(path: string, body?: unknown): Promise<boolean> {
    const { status, text } = await send(path, body);
    if (status >= 200 && status < 300) return true;
    if (status === 409) return false;
    throw failed(path, status, text);
  }

  return {
    reportState: (runId, state, note, summary) =>
      post(`/runs/${encodeURIComponent(runId)}/state`, {
        state,
        ...(note === undefined ? {} : { note }),
        ...(summary === undefined ? {} : { summary }),
      }),
    renewLease: (runId) => post(`/runs/${encodeURIComponent(runId)}/lease`),
    async appendLogs(runId, chunks) {
      const path = `/${runLogsPath(runId)}`;
      const { status, text } = await send(path, { chunks });
      if (status >= 200 && status < 300) return 'stored';
      // The run is gone, or its log closed (final for longer than stack-trigger's grace period).
      if (status === 404 || status === 409) return 'closed';
      throw failed(path, status, text);
    },
  };
}
