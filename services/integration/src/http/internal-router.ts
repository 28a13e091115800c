import { Router } from 'express';
import { bearerAuth, requireBearerRole } from '@stacklink/http';
import type { createGetCredentials } from '../domain/get-credentials';
import type { createGetWebhookSecrets } from '../domain/get-webhook-secrets';

/** The use cases behind the internal API, built once by app.ts. */
export interface InternalUseCases {
  getWebhookSecrets: ReturnType<typeof createGetWebhookSecrets>;
  getCredentials: ReturnType<typeof createGetCredentials>;
}

/**
 * `/internal/v1`, never exposed outside the cluster (docs/architecture.md §4, §12). INTERNAL_TOKEN
 * (integration and stack-trigger) reads both routes; GATEWAY_TOKEN (the internet-facing gateway) reads
 * the webhook secrets only, and is answered 403 `AUTH.FORBIDDEN` on the credentials.
 */
export function createInternalRouter(
  useCases: InternalUseCases,
  tokens: { internalToken: string; gatewayToken?: string },
): Router {
  const router = Router();
  router.use(
    bearerAuth({ internal: tokens.internalToken, gateway: tokens.gatewayToken ?? [] }, 'stacklink-internal'),
  );
  router.get(
    '/integrations/:id/webhook-secrets',
    requireBearerRole('internal', 'gateway'),
    async (req, res) => {
      res.setHeader('Cache-Control', 'no-store');
      res.json(await useCases.getWebhookSecrets(String(req.params.id)));
    },
  );
  // Every route below, and any added later, is INTERNAL_TOKEN's alone.
  router.use(requireBearerRole('internal'));
  router.get('/integrations/:id/credentials', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(await useCases.getCredentials(req.params.id));
  });
  return router;
}
