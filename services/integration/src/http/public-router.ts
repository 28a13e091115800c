import { Router } from 'express';
import { bearerAuth, jsonBody, validateInput } from '@stacklink/http';
import { createIntegration, type CreateIntegrationInput } from '../domain/create-integration';
import { deleteIntegration } from '../domain/delete-integration';
import { getIntegration, listIntegrations } from '../domain/get-integration';
import { listRepositories } from '../domain/list-repositories';
import type { IntegrationDeps, RepositoryQuery } from '../domain/ports';
import { rotateWebhookSecret } from '../domain/rotate-webhook-secret';
import { testConnection } from '../domain/test-connection';
import { updateIntegration, type UpdateIntegrationInput } from '../domain/update-integration';
import {
  createIntegrationSchema,
  deleteQuerySchema,
  repositoryQuerySchema,
  updateIntegrationSchema,
} from './schemas';

/** `/api/v1` (docs/architecture.md §4), behind ADMIN_TOKEN: authentication runs before anything is parsed. */
export function createPublicRouter(deps: IntegrationDeps, adminToken: string): Router {
  const router = Router();
  router.use(bearerAuth(adminToken));
  router.use(jsonBody('256kb'));

  router.post('/integrations', async (req, res) => {
    const input = validateInput<CreateIntegrationInput>(createIntegrationSchema, req.body);
    res.status(201).json(await createIntegration(deps, input));
  });
  router.get('/integrations', async (_req, res) => {
    res.json({ integrations: await listIntegrations(deps) });
  });
  router.get('/integrations/:id', async (req, res) => {
    res.json(await getIntegration(deps, req.params.id));
  });
  router.patch('/integrations/:id', async (req, res) => {
    const input = validateInput<UpdateIntegrationInput & { name?: string }>(
      updateIntegrationSchema,
      req.body,
    );
    res.json(await updateIntegration(deps, req.params.id, input));
  });
  router.delete('/integrations/:id', async (req, res) => {
    const query = validateInput<{ force: boolean }>(deleteQuerySchema, req.query);
    await deleteIntegration(deps, req.params.id, { force: query.force });
    res.status(204).end();
  });
  router.post('/integrations/:id/test', async (req, res) => {
    res.json(await testConnection(deps, req.params.id));
  });
  router.post('/integrations/:id/webhook-secret/rotate', async (req, res) => {
    res.json(await rotateWebhookSecret(deps, req.params.id));
  });
  router.get('/integrations/:id/repositories', async (req, res) => {
    const query = validateInput<RepositoryQuery>(repositoryQuerySchema, req.query);
    res.json(await listRepositories(deps, req.params.id, query));
  });
  return router;
}
