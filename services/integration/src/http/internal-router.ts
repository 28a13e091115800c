import { Router } from 'express';
import { bearerAuth } from '@stacklink/http';
import type { createGetCredentials } from '../domain/get-credentials';
import type { createGetWebhookSecrets } from '../domain/get-webhook-secrets';

/** The use cases behind the internal API, built once by app.ts. */
export interface InternalUseCases {
  getWebhookSecrets: ReturnType<typeof createGetWebhookSecrets>;
  getCredentials: ReturnType<typeof createGetCredentials>;
}

/** `/internal/v1`, behind INTERNAL_TOKEN; never exposed outside the cluster (docs/architecture.md §4). */
export function createInternalRouter(useCases: InternalUseCases, internalToken: string): Router {
  const router = Router();
  router.use(bearerAuth(internalToken, 'stacklink-internal'));
  router.get('/integrations/:id/webhook-secrets', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(await useCases.getWebhookSecrets(req.params.id));
  });
  router.get('/integrations/:id/credentials', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(await useCases.getCredentials(req.params.id));
  });
  return router;
}
