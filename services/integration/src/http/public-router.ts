import { Router } from 'express';
import { bearerAuth, jsonBody, validateInput } from '@stacklink/http';
import type { createCreateIntegration, CreateIntegrationInput } from '../domain/create-integration';
import type { createDeleteIntegration } from '../domain/delete-integration';
import type { createGetWebhookSecret } from '../domain/get-webhook-secret';
import type { createGetIntegration, createListIntegrations } from '../domain/get-integration';
import type { createListRepositories } from '../domain/list-repositories';
import type { RepositoryQuery } from '../domain/ports';
import type { createRotateWebhookSecret } from '../domain/rotate-webhook-secret';
import type { createTestConnection } from '../domain/test-connection';
import type { createUpdateIntegration, UpdateIntegrationInput } from '../domain/update-integration';
import {
  createIntegrationSchema,
  deleteQuerySchema,
  repositoryQuerySchema,
  updateIntegrationSchema,
  webhookSecretQuerySchema,
} from './schemas';

/** The use cases behind the public API, built once by app.ts. */
export interface PublicUseCases {
  createIntegration: ReturnType<typeof createCreateIntegration>;
  listIntegrations: ReturnType<typeof createListIntegrations>;
  getIntegration: ReturnType<typeof createGetIntegration>;
  updateIntegration: ReturnType<typeof createUpdateIntegration>;
  deleteIntegration: ReturnType<typeof createDeleteIntegration>;
  testConnection: ReturnType<typeof createTestConnection>;
  rotateWebhookSecret: ReturnType<typeof createRotateWebhookSecret>;
  getWebhookSecret: ReturnType<typeof createGetWebhookSecret>;
  listRepositories: ReturnType<typeof createListRepositories>;
}

/** `/api/v1` (docs/architecture.md §4), behind ADMIN_TOKEN: authentication runs before anything is parsed. */
export function createPublicRouter(useCases: PublicUseCases, adminToken: string): Router {
  const router = Router();
  router.use(bearerAuth(adminToken));
  router.use(jsonBody('256kb'));

  router.post('/integrations', async (req, res) => {
    const input = validateInput<CreateIntegrationInput>(createIntegrationSchema, req.body);
    res.status(201).json(await useCases.createIntegration(input));
  });
  router.get('/integrations', async (_req, res) => {
    res.json({ integrations: await useCases.listIntegrations() });
  });
  router.get('/integrations/:id', async (req, res) => {
    res.json(await useCases.getIntegration(req.params.id));
  });
  router.patch('/integrations/:id', async (req, res) => {
    const input = validateInput<UpdateIntegrationInput & { name?: string }>(
      updateIntegrationSchema,
      req.body,
    );
    res.json(await useCases.updateIntegration(req.params.id, input));
  });
  router.delete('/integrations/:id', async (req, res) => {
    const query = validateInput<{ force: boolean }>(deleteQuerySchema, req.query);
    await useCases.deleteIntegration(req.params.id, { force: query.force });
    res.status(204).end();
  });
  router.post('/integrations/:id/test', async (req, res) => {
    res.json(await useCases.testConnection(req.params.id));
  });
  router.get('/integrations/:id/webhook-secret', async (req, res) => {
    const query = validateInput<{ scope?: string }>(webhookSecretQuerySchema, req.query);
    // The answer carries a secret: no cache may keep it.
    res.set('cache-control', 'no-store').json(await useCases.getWebhookSecret(req.params.id, query.scope));
  });
  router.post('/integrations/:id/webhook-secret/rotate', async (req, res) => {
    res.json(await useCases.rotateWebhookSecret(req.params.id));
  });
  router.get('/integrations/:id/repositories', async (req, res) => {
    const query = validateInput<RepositoryQuery>(repositoryQuerySchema, req.query);
    res.json(await useCases.listRepositories(req.params.id, query));
  });
  return router;
}
