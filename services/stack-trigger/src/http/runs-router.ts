import { Router } from 'express';
import { AppError } from '@stacklink/errors';
import { validateInput } from '@stacklink/http';
import type { RunState } from '../domain/model';
import type { RunRepositoryPort } from '../domain/ports';
import type { createReportRunState } from '../domain/report-run-state';
import { runStateSchema } from './schemas';

export function createRunsRouter(deps: {
  runs: RunRepositoryPort;
  reportRunState: ReturnType<typeof createReportRunState>;
}): Router {
  const router = Router();
  router.get('/runs/:id', async (req, res) => {
    const run = await deps.runs.get(req.params.id);
    if (run === undefined) throw new AppError('RUN.NOT_FOUND', `no run ${req.params.id}`, { status: 404 });
    res.json(run);
  });
  router.post('/runs/:id/state', async (req, res) => {
    const input = validateInput<{ state: RunState; note?: string }>(runStateSchema, req.body);
    res.json(await deps.reportRunState(req.params.id, input.state, input.note));
  });
  return router;
}
