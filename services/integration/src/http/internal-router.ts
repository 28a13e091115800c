import {
  bearerAuth,
  createDocumentedRouter,
  errorResponse,
  requireBearerRole,
  serveOpenApi,
  type DocumentedRouter,
} from '@stacklink/http';
import type { createGetCredentials } from '../domain/get-credentials';
import type { createGetOAuthClient } from '../domain/get-oauth-client';
import type { createGetWebhookSecrets } from '../domain/get-webhook-secrets';
import { oauthClientAnswerSchema } from '@stacklink/contracts';
import { credentialsSchema, notFound, webhookSecretsSchema } from './answers';

/** The use cases behind the internal API, built once by app.ts. */
export interface InternalUseCases {
  getWebhookSecrets: ReturnType<typeof createGetWebhookSecrets>;
  getCredentials: ReturnType<typeof createGetCredentials>;
  getOAuthClient: ReturnType<typeof createGetOAuthClient>;
  /** The OpenAPI document of the internal API (app.ts builds it). */
  openApi: () => Record<string, unknown>;
}

/**
 * `/internal/v1`, never exposed outside the cluster (docs/architecture.md §4, §12). INTERNAL_TOKEN
 * (integration and stack-trigger) reads both routes; GATEWAY_TOKEN (the internet-facing gateway) reads
 * the webhook secrets only, and is answered 403 `AUTH.FORBIDDEN` on the credentials.
 */
export function createInternalRouter(
  useCases: InternalUseCases,
  tokens: { internalToken: string; gatewayToken?: string },
): DocumentedRouter {
  const api = createDocumentedRouter();
  api.use(
    bearerAuth({ internal: tokens.internalToken, gateway: tokens.gatewayToken ?? [] }, 'stacklink-internal'),
  );
  api.use(requireBearerRole('internal', 'gateway'));
  api.route(
    {
      method: 'get',
      path: '/integrations/:id/webhook-secrets',
      summary: 'The secrets a delivery may be signed with: current first, then the previous one in its grace',
      auth: ['internal', 'gateway'],
      responses: {
        200: { description: 'Cache-Control: no-store', schema: webhookSecretsSchema },
        404: notFound,
      },
    },
    async ({ params }, _req, res) => {
      res.setHeader('Cache-Control', 'no-store');
      res.json(await useCases.getWebhookSecrets(params.id!));
    },
  );
  // Every route below, and any added later, is INTERNAL_TOKEN's alone.
  api.use(requireBearerRole('internal'));
  api.route(
    {
      method: 'get',
      path: '/integrations/:id/credentials',
      summary: 'What stack-trigger needs to call Bitbucket: API host, username, access token, TLS',
      auth: ['internal'],
      responses: {
        200: { description: 'Cache-Control: no-store', schema: credentialsSchema },
        404: notFound,
      },
    },
    async ({ params }, _req, res) => {
      res.setHeader('Cache-Control', 'no-store');
      res.json(await useCases.getCredentials(params.id!));
    },
  );
  api.route(
    {
      method: 'get',
      path: '/integrations/:id/oauth-client',
      summary:
        'What the console needs for "sign in with Bitbucket": the OAuth client id and secret, hosts, TLS',
      auth: ['internal'],
      responses: {
        200: { description: 'Cache-Control: no-store', schema: oauthClientAnswerSchema },
        404: errorResponse(
          'no such integration, or it has no OAuth client',
          'INTEGRATION.OAUTH_NOT_CONFIGURED',
          'integration x has no OAuth client',
        ),
      },
    },
    async ({ params }, _req, res) => {
      res.setHeader('Cache-Control', 'no-store');
      res.json(await useCases.getOAuthClient(params.id!));
    },
  );
  serveOpenApi(api, ['internal'], () => useCases.openApi());
  return api;
}
