import { createDocumentedRouter, errorResponse, type DocumentedRouter } from '@stacklink/http';
import type { createRenewRunLease } from '../domain/renew-run-lease';
import { leaseSchema, runNotFound } from './answers';

/**
 * `POST /api/v1/runs/{id}/lease`: a runner's heartbeat (README "Runner contract"); one of the additions
 * listed in docs/architecture.md §4.
 */
export function createRunLeaseRouter(deps: {
  renewRunLease: ReturnType<typeof createRenewRunLease>;
}): DocumentedRouter {
  const api = createDocumentedRouter();
  api.route(
    {
      method: 'post',
      path: '/runs/:id/lease',
      summary: "A runner's heartbeat: keeps the run's lease while it runs",
      auth: ['admin', 'runner'],
      responses: {
        200: { description: 'the run, still leased', schema: leaseSchema },
        404: runNotFound,
        409: errorResponse(
          'the run has ended (RUN.NOT_ACTIVE) or is not handed out to a runner (RUN.NO_LEASE)',
          'RUN.NOT_ACTIVE',
          'run x is CANCELED: it has no lease to renew',
        ),
      },
    },
    async ({ params }, _req, res) => {
      res.json(await deps.renewRunLease(params.id!));
    },
  );
  return api;
}
