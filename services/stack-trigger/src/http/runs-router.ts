import { Router } from 'express';
import { AppError } from '@stacklink/errors';
import type { RunRepositoryPort } from '../domain/ports';

/** `GET /api/v1/runs/{id}` (ADMIN_TOKEN); a runner's report is run-state-router's. */
export function createRunsRouter(deps: { runs: RunRepositoryPort }): Router {
  const router = Router();
  router.get('/runs/:id', async (req, res) => {
    const run = await deps.runs.get(req.params.id);
    if (run === undefined) throw new AppError('RUN.NOT_FOUND', `no run ${req.params.id}`, { status: 404 });
    res.json(run);
  });
  return router;
}
