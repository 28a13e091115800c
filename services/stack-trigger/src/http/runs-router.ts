import { createDocumentedRouter, validationError, type DocumentedRouter } from '@stacklink/http';
import type { createListRuns } from '../domain/list-runs';
import type { RunState } from '../domain/model';
import type { createShowRun } from '../domain/show-run';
import { runExample, runNotFound, runsPageSchema, runViewExample, runViewSchema } from './answers';
import { listAllRunsQuerySchema } from './schemas';

/**
 * `GET /api/v1/runs` (every stack, newest first) and `GET /api/v1/runs/{id}` (ADMIN_TOKEN); a runner's
 * report is run-state-router's.
 */
export function createRunsRouter(deps: {
  listRuns: ReturnType<typeof createListRuns>;
  showRun: ReturnType<typeof createShowRun>;
}): DocumentedRouter {
  const api = createDocumentedRouter();
  api.route<{ stackId?: string; state?: RunState; limit: number; before?: string }>(
    {
      method: 'get',
      path: '/runs',
      summary: "Every stack's runs, most recent first",
      auth: ['admin'],
      query: listAllRunsQuerySchema,
      responses: {
        200: {
          description: 'a page of runs',
          schema: runsPageSchema,
          example: { runs: [runExample], next: null },
        },
        400: validationError('state'),
      },
    },
    async ({ query }, _req, res) => {
      res.json(await deps.listRuns(query));
    },
  );
  api.route(
    {
      method: 'get',
      path: '/runs/:id',
      summary: 'One run with its timeline, what triggered it, its stack and links into Bitbucket',
      auth: ['admin'],
      responses: {
        200: { description: 'the run', schema: runViewSchema, example: runViewExample },
        404: runNotFound,
      },
    },
    async ({ params }, _req, res) => {
      res.json(await deps.showRun(params.id!));
    },
  );
  return api;
}
