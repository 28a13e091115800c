import { Router } from 'express';
import { validateInput } from '@stacklink/http';
import type { RunStateRequest } from '@stacklink/contracts';
import type { createReportRunState } from '../domain/report-run-state';
import { runStateSchema } from './schemas';

/**
 * `POST /api/v1/runs/{id}/state`: a runner's report (README "Runner contract"). One of the routes a
 * runner token may use (docs/architecture.md §12), so it lives apart from the admin-only reads.
 */
export function createRunStateRouter(deps: {
  reportRunState: ReturnType<typeof createReportRunState>;
}): Router {
  const router = Router();
  router.post('/runs/:id/state', async (req, res) => {
    const input = validateInput<RunStateRequest>(runStateSchema, req.body);
    res.json(await deps.reportRunState(req.params.id, input.state, input.note, input.summary));
  });
  return router;
}
