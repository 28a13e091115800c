import {
  createDocumentedRouter,
  errorResponse,
  validationError,
  type DocumentedRouter,
} from '@stacklink/http';
import type { RunState, RunSummary } from '../domain/model';
import type { createReportRunState } from '../domain/report-run-state';
import { runNotFound, runSchema } from './answers';
import { runStateSchema } from './schemas';

/**
 * `POST /api/v1/runs/{id}/state`: a runner's report (README "Runner contract"). One of the routes a
 * runner token may use (docs/architecture.md §12), so it lives apart from the admin-only reads.
 */
export function createRunStateRouter(deps: {
  reportRunState: ReturnType<typeof createReportRunState>;
}): DocumentedRouter {
  const api = createDocumentedRouter();
  api.route<undefined, { state: RunState; note?: string; summary?: RunSummary }>(
    {
      method: 'post',
      path: '/runs/:id/state',
      summary: "A runner's report: QUEUED→RUNNING→FINISHED|FAILED, QUEUED|RUNNING→CANCELED",
      auth: ['admin', 'runner'],
      body: runStateSchema,
      bodyExample: { state: 'RUNNING' },
      responses: {
        200: { description: 'the run as moved', schema: runSchema },
        400: validationError('state'),
        404: runNotFound,
        409: errorResponse(
          'a move the run does not allow; nothing changed',
          'RUN.ILLEGAL_TRANSITION',
          'run x is FINISHED: it cannot become RUNNING',
        ),
      },
    },
    async ({ params, body }, _req, res) => {
      res.json(await deps.reportRunState(params.id!, body.state, body.note, body.summary));
    },
  );
  return api;
}
