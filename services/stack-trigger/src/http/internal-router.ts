import { Router } from 'express';
import { validateInput } from '@stacklink/http';
import type { StackRepositoryPort } from '../domain/ports';
import { internalStacksQuerySchema } from './schemas';

/** `/internal/v1`: lets the integration service refuse to delete an integration stacks still use. */
export function createInternalRouter(deps: { stacks: StackRepositoryPort }): Router {
  const router = Router();
  router.get('/stacks', async (req, res) => {
    const { integrationId } = validateInput<{ integrationId: string }>(internalStacksQuerySchema, req.query);
    res.json({ stacks: await deps.stacks.list({ integrationId }) });
  });
  return router;
}
