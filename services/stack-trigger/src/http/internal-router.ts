import { createDocumentedRouter, validationError, type DocumentedRouter } from '@stacklink/http';
import { webhookHealthAnswerSchema } from '@stacklink/contracts';
import type { ManageStacks } from '../domain/manage-stacks';
import type { WebhookHealthRepositoryPort } from '../domain/ports';
import { stackListSchema } from './answers';
import { disableStacksBodySchema, internalStacksQuerySchema } from './schemas';

/**
 * `/internal/v1`, for the integration service: which stacks use an integration (it refuses to delete
 * one stacks still use), and disabling them when it deletes it anyway (`?force=true`). Both answer
 * `{stacks: [{id, name, …}]}`, full stacks, of which the integration service reads id and name.
 */
export function createInternalRouter(deps: {
  stacks: ManageStacks;
  webhookHealth?: WebhookHealthRepositoryPort;
}): DocumentedRouter {
  const api = createDocumentedRouter();
  const webhookHealth = deps.webhookHealth;
  if (webhookHealth !== undefined)
    api.route<{ integrationId: string }>(
      {
        method: 'get',
        path: '/webhooks',
        summary: "Each repository's (or project's) webhook health as the reconciler last saw it",
        auth: ['internal'],
        query: internalStacksQuerySchema,
        responses: {
          200: { description: 'health per scope', schema: webhookHealthAnswerSchema },
          400: validationError('integrationId'),
        },
      },
      async ({ query }, _req, res) => {
        const records = await webhookHealth.list(query.integrationId);
        res.json({ webhooks: records.map(({ integrationId: _id, ...entry }) => entry) });
      },
    );
  api.route<{ integrationId: string }>(
    {
      method: 'get',
      path: '/stacks',
      summary: 'The stacks of an integration',
      auth: ['internal'],
      query: internalStacksQuerySchema,
      responses: {
        200: { description: 'its stacks', schema: stackListSchema },
        400: validationError('integrationId'),
      },
    },
    async ({ query }, _req, res) => {
      res.json({ stacks: await deps.stacks.list({ integrationId: query.integrationId }) });
    },
  );
  api.route<{ integrationId: string }, { reason?: string } | undefined>(
    {
      method: 'post',
      path: '/stacks/disable',
      summary: 'Disable the stacks of an integration being deleted with force=true',
      auth: ['internal'],
      query: internalStacksQuerySchema,
      body: disableStacksBodySchema,
      responses: {
        200: { description: 'the stacks, disabled', schema: stackListSchema },
        400: validationError('integrationId'),
      },
    },
    async ({ query, body }, _req, res) => {
      const { integrationId } = query;
      const stacks = await deps.stacks.disableForIntegration(
        integrationId,
        body?.reason ?? `integration ${integrationId} was deleted`,
      );
      res.json({ stacks });
    },
  );
  return api;
}
