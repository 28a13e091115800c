import { Router } from 'express';
import type { createRenewRunLease } from '../domain/renew-run-lease';

/**
 * `POST /api/v1/runs/{id}/lease`: a runner's heartbeat (README "Runner contract"); one of the additions
 * listed in docs/architecture.md §4.
 */
export function createRunLeaseRouter(deps: {
  renewRunLease: ReturnType<typeof createRenewRunLease>;
}): Router {
  const router = Router();
  router.post('/runs/:id/lease', async (req, res) => {
    res.json(await deps.renewRunLease(req.params.id));
  });
  return router;
}
