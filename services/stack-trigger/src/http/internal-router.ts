import { Router } from 'express';
import { validateInput } from '@stacklink/http';
import type { ManageStacks } from '../domain/manage-stacks';
import { disableStacksBodySchema, internalStacksQuerySchema } from './schemas';

/**
 * `/internal/v1`, for the integration service: which stacks use an integration (it refuses to delete
 * one stacks still use), and disabling them when it deletes it anyway (`?force=true`). Both answer
 * `{stacks: [{id, name, …}]}`, full stacks, of which the integration service reads id and name.
 */
export function createInternalRouter(deps: { stacks: ManageStacks }): Router {
  const router = Router();
  router.get('/stacks', async (req, res) => {
    const { integrationId } = validateInput<{ integrationId: string }>(internalStacksQuerySchema, req.query);
    res.json({ stacks: await deps.stacks.list({ integrationId }) });
  });
  router.post('/stacks/disable', async (req, res) => {
    const { integrationId } = validateInput<{ integrationId: string }>(internalStacksQuerySchema, req.query);
    const { reason } = validateInput<{ reason?: string }>(disableStacksBodySchema, req.body ?? {});
    const stacks = await deps.stacks.disableForIntegration(
      integrationId,
      reason ?? `integration ${integrationId} was deleted`,
    );
    res.json({ stacks });
  });
  return router;
}
