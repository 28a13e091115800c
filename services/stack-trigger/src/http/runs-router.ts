import { AppError } from '@stacklink/errors';
import { createDocumentedRouter, type DocumentedRouter } from '@stacklink/http';
import type { RunRepositoryPort } from '../domain/ports';
import { runExample, runNotFound, runSchema } from './answers';

/** `GET /api/v1/runs/{id}` (ADMIN_TOKEN); a runner's report is run-state-router's. */
export function createRunsRouter(deps: { runs: RunRepositoryPort }): DocumentedRouter {
  const api = createDocumentedRouter();
  api.route(
    {
      method: 'get',
      path: '/runs/:id',
      summary: 'One run',
      auth: ['admin'],
      responses: {
        200: { description: 'the run', schema: runSchema, example: runExample },
        404: runNotFound,
      },
    },
    async ({ params }, _req, res) => {
      const run = await deps.runs.get(params.id!);
      if (run === undefined) throw new AppError('RUN.NOT_FOUND', `no run ${params.id}`, { status: 404 });
      res.json(run);
    },
  );
  return api;
}
