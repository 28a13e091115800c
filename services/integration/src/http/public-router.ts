import {
  bearerAuth,
  createDocumentedRouter,
  errorResponse,
  jsonBody,
  serveOpenApi,
  validationError,
  type DocumentedRouter,
} from '@stacklink/http';
import type { createCreateIntegration, CreateIntegrationInput } from '../domain/create-integration';
import type { createDeleteIntegration } from '../domain/delete-integration';
import type { createGetWebhookSecret } from '../domain/get-webhook-secret';
import type { createGetIntegration, createListIntegrations } from '../domain/get-integration';
import type { createListRepositories } from '../domain/list-repositories';
import type { RepositoryQuery } from '../domain/ports';
import type { createRotateWebhookSecret } from '../domain/rotate-webhook-secret';
import type { createGetWebhookHealth } from '../domain/get-webhook-health';
import { integrationWebhooksAnswerSchema } from '@stacklink/contracts';
import type { createTestConnection } from '../domain/test-connection';
import type { createUpdateIntegration, UpdateIntegrationInput } from '../domain/update-integration';
import {
  createIntegrationSchema,
  deleteQuerySchema,
  repositoryQuerySchema,
  updateIntegrationSchema,
  webhookSecretQuerySchema,
} from './schemas';
import {
  connectionReportSchema,
  createdIntegrationSchema,
  integrationExample,
  integrationListSchema,
  integrationSchema,
  notFound,
  repositoryPageSchema,
  webhookSecretSchema,
} from './answers';

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
  getWebhookHealth: ReturnType<typeof createGetWebhookHealth>;
  listRepositories: ReturnType<typeof createListRepositories>;
  /** The OpenAPI document of the mounted routers (app.ts builds it). */
  openApi: () => Record<string, unknown>;
}

const admin = ['admin'];

/**
 * `/api/v1` (docs/architecture.md §4), behind ADMIN_TOKEN: authentication runs before anything is parsed.
 * Each route is described for `GET /api/v1/openapi.json` by the schemas that validate it.
 */
export function createPublicRouter(useCases: PublicUseCases, adminToken: string): DocumentedRouter {
  const api = createDocumentedRouter();
  api.use(bearerAuth(adminToken));
  api.use(...jsonBody('256kb'));

  api.route<undefined, CreateIntegrationInput>(
    {
      method: 'post',
      path: '/integrations',
      summary: 'Create an integration; the answer shows the webhook secret, this once',
      auth: admin,
      body: createIntegrationSchema,
      bodyExample: {
        name: 'bitbucket-prod',
        apiHost: 'https://bitbucket.example.com',
        userFacingHost: 'https://bitbucket.example.com',
        username: 'stacklink',
        accessToken: '<personal access token>',
      },
      responses: {
        201: {
          description: 'created',
          schema: createdIntegrationSchema,
          example: { ...integrationExample, webhook: { ...integrationExample.webhook, secret: '<64 hex>' } },
        },
        400: validationError('name'),
        409: errorResponse('the name is taken', 'INTEGRATION.NAME_TAKEN', 'an integration named x exists'),
      },
    },
    async ({ body }, _req, res) => {
      res.status(201).json(await useCases.createIntegration(body));
    },
  );
  api.route(
    {
      method: 'get',
      path: '/integrations',
      summary: 'List integrations (never their tokens)',
      auth: admin,
      responses: {
        200: {
          description: 'every integration',
          schema: integrationListSchema,
          example: { integrations: [integrationExample] },
        },
      },
    },
    async (_input, _req, res) => {
      res.json({ integrations: await useCases.listIntegrations() });
    },
  );
  api.route(
    {
      method: 'get',
      path: '/integrations/:id',
      summary: 'One integration with its webhook endpoint',
      auth: admin,
      responses: {
        200: { description: 'the integration', schema: integrationSchema, example: integrationExample },
        404: notFound,
      },
    },
    async ({ params }, _req, res) => {
      res.json(await useCases.getIntegration(params.id!));
    },
  );
  api.route<undefined, UpdateIntegrationInput & { name?: string }>(
    {
      method: 'patch',
      path: '/integrations/:id',
      summary: 'Change an integration (the name stays; a new apiHost needs a new accessToken)',
      auth: admin,
      body: updateIntegrationSchema,
      bodyExample: { description: 'production Bitbucket' },
      responses: {
        200: { description: 'the integration as changed', schema: integrationSchema },
        400: validationError('accessToken'),
        404: notFound,
      },
    },
    async ({ params, body }, _req, res) => {
      res.json(await useCases.updateIntegration(params.id!, body));
    },
  );
  api.route<{ force: boolean }>(
    {
      method: 'delete',
      path: '/integrations/:id',
      summary: 'Delete an integration; refused while stacks use it unless force=true (which disables them)',
      auth: admin,
      query: deleteQuerySchema,
      responses: {
        204: { description: 'deleted' },
        404: notFound,
        409: errorResponse(
          'stacks still use it',
          'INTEGRATION.IN_USE',
          'integration x is used by stacks: network',
        ),
      },
    },
    async ({ params, query }, _req, res) => {
      await useCases.deleteIntegration(params.id!, { force: query.force });
      res.status(204).end();
    },
  );
  api.route(
    {
      method: 'post',
      path: '/integrations/:id/test',
      summary: 'Check reachability, credentials and permissions against Bitbucket',
      description: 'Always 200 with five checks; a failing Bitbucket is a failed check, not an error status.',
      auth: admin,
      responses: {
        200: {
          description: 'the checks, each with advice a person can act on',
          schema: connectionReportSchema,
          example: {
            ok: true,
            serverVersion: '8.19.1',
            checks: [{ name: 'reachability', ok: true, message: 'reached' }],
          },
        },
        404: notFound,
      },
    },
    async ({ params }, _req, res) => {
      res.json(await useCases.testConnection(params.id!));
    },
  );
  api.route<{ scope?: string }>(
    {
      method: 'get',
      path: '/integrations/:id/webhook-secret',
      summary: 'The endpoint and secret to paste into a webhook, integration-wide or scoped (P/r or P)',
      auth: admin,
      query: webhookSecretQuerySchema,
      responses: {
        200: { description: 'endpoint and secret (Cache-Control: no-store)', schema: webhookSecretSchema },
        400: validationError('scope'),
        404: notFound,
      },
    },
    async ({ params, query }, _req, res) => {
      // The answer carries a secret: no cache may keep it.
      res.set('cache-control', 'no-store').json(await useCases.getWebhookSecret(params.id!, query.scope));
    },
  );
  api.route(
    {
      method: 'post',
      path: '/integrations/:id/webhook-secret/rotate',
      summary: 'A new webhook secret; the previous one keeps working for the grace period',
      auth: admin,
      responses: {
        200: {
          description: 'the new secret and until when the previous one works',
          schema: webhookSecretSchema,
        },
        404: notFound,
      },
    },
    async ({ params }, _req, res) => {
      res.json(await useCases.rotateWebhookSecret(params.id!));
    },
  );
  api.route(
    {
      method: 'get',
      path: '/integrations/:id/webhooks',
      summary: "Webhook setting and each repository's (or project's) webhook health (managed webhooks)",
      auth: admin,
      responses: {
        200: { description: 'the setting and the health per scope', schema: integrationWebhooksAnswerSchema },
        404: notFound,
        503: errorResponse(
          'stack-trigger did not answer',
          'STACK_TRIGGER.UNAVAILABLE',
          'stack-trigger cannot be reached: webhook health is unknown for now',
        ),
      },
    },
    async ({ params }, _req, res) => {
      res.json(await useCases.getWebhookHealth(params.id!));
    },
  );
  api.route<RepositoryQuery>(
    {
      method: 'get',
      path: '/integrations/:id/repositories',
      summary: 'Repositories the token can see, paged',
      auth: admin,
      query: repositoryQuerySchema,
      responses: {
        200: { description: 'one page', schema: repositoryPageSchema },
        400: validationError('limit'),
        404: notFound,
        502: errorResponse(
          'Bitbucket refused or failed',
          'INTEGRATION.BITBUCKET_FAILED',
          'Bitbucket answered 500',
        ),
      },
    },
    async ({ params, query }, _req, res) => {
      res.json(await useCases.listRepositories(params.id!, query));
    },
  );
  serveOpenApi(api, admin, () => useCases.openApi());
  return api;
}
