import { Router } from 'express';
import { validateInput } from '@stacklink/http';
import type { createListRuns } from '../domain/list-runs';
import type { RunState } from '../domain/model';
import type { createShowRun } from '../domain/show-run';
import { listAllRunsQuerySchema } from './schemas';

/**
 * `GET /api/v1/runs` (every stack, newest first) and `GET /api/v1/runs/{id}` (ADMIN_TOKEN); a runner's
 * report is run-state-router's.
 */
export function createRunsRouter(deps: {
  listRuns: ReturnType<typeof createListRuns>;
  showRun: ReturnType<typeof createShowRun>;
}): Router {
  const router = Router();
  router.get('/runs', async (req, res) => {
    const query = validateInput<{ stackId?: string; state?: RunState; limit: number; before?: string }>(
      listAllRunsQuerySchema,
      req.query,
    );
    res.json(await deps.listRuns(query));
  });
  router.get('/runs/:id', async (req, res) => {
    res.json(await deps.showRun(req.params.id));
  });
  return router;
}
