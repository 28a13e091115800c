import { Router } from 'express';
import { bearerAuth } from '@stacklink/http';
import { getCredentials } from '../domain/get-credentials';
import { getWebhookSecrets } from '../domain/get-webhook-secrets';
import type { IntegrationDeps } from '../domain/ports';

/** `/internal/v1`, behind INTERNAL_TOKEN; never exposed outside the cluster (docs/architecture.md §4). */
export function createInternalRouter(deps: IntegrationDeps, internalToken: string): Router {
  const router = Router();
  router.use(bearerAuth(internalToken, 'stacklink-internal'));
  router.get('/integrations/:id/webhook-secrets', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(await getWebhookSecrets(deps, req.params.id));
  });
  router.get('/integrations/:id/credentials', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(await getCredentials(deps, req.params.id));
  });
  return router;
}
