import { Joi } from '@stacklink/config';
import { errorResponse } from '@stacklink/http';

/**
 * The answers the API documents (OpenAPI, docs/architecture.md §16). Answers may grow new fields;
 * clients must accept them.
 */
const id = Joi.string().description('integration id');
const isoTime = Joi.string().isoDate();

export const integrationSchema = Joi.object({
  id: id.required(),
  name: Joi.string().required(),
  apiHost: Joi.string().uri().required(),
  userFacingHost: Joi.string().uri().required(),
  username: Joi.string().required(),
  description: Joi.string().allow(''),
  labels: Joi.array().items(Joi.string()).required(),
  tls: Joi.object({ caCertificate: Joi.string() }).required(),
  webhooks: Joi.object({
    mode: Joi.string().valid('manual', 'managed').required(),
    scope: Joi.string().valid('repository', 'project').required(),
  }).required(),
  createdAt: isoTime.required(),
  updatedAt: isoTime.required(),
  webhook: Joi.object({
    endpoint: Joi.string().uri().required(),
    previousSecretValidUntil: isoTime,
  }).required(),
  oauth: Joi.object({
    clientId: Joi.string().required(),
    configured: Joi.boolean().valid(true).required(),
  }).description('the sign-in OAuth client; its secret is never shown'),
}).label('Integration');

const webhookWithSecret = Joi.object({
  endpoint: Joi.string().uri().required(),
  secret: Joi.string().description('32 random bytes, hex').required(),
});

export const createdIntegrationSchema = integrationSchema
  .keys({ webhook: webhookWithSecret.required() })
  .label('CreatedIntegration');

export const integrationListSchema = Joi.object({
  integrations: Joi.array().items(integrationSchema).required(),
});

export const connectionReportSchema = Joi.object({
  ok: Joi.boolean().required(),
  serverVersion: Joi.string(),
  checks: Joi.array()
    .items(
      Joi.object({
        name: Joi.string()
          .valid('reachability', 'bitbucket', 'credentials', 'permissions', 'build_status_api')
          .required(),
        ok: Joi.boolean().required(),
        message: Joi.string().description('what was found and, on failure, what to change').required(),
        skipped: Joi.boolean(),
      }),
    )
    .required(),
});

export const webhookSecretSchema = Joi.object({
  webhook: webhookWithSecret.keys({ scope: Joi.string() }).required(),
  previousSecretValidUntil: isoTime,
});

export const repositoryPageSchema = Joi.object({
  values: Joi.array()
    .items(Joi.object({ project: Joi.object().unknown(), slug: Joi.string(), name: Joi.string() }).unknown())
    .required(),
  start: Joi.number().integer().required(),
  limit: Joi.number().integer().required(),
  isLastPage: Joi.boolean().required(),
  nextPageStart: Joi.number().integer(),
});

export const webhookSecretsSchema = Joi.object({
  secrets: Joi.array()
    .items(Joi.object({ value: Joi.string().required(), validUntil: isoTime }))
    .required(),
});

export const credentialsSchema = Joi.object({
  apiHost: Joi.string().uri().required(),
  username: Joi.string().required(),
  accessToken: Joi.string().required(),
  tls: Joi.object({ caCertificate: Joi.string() }).required(),
  webhooks: Joi.object({
    mode: Joi.string().valid('manual', 'managed').required(),
    scope: Joi.string().valid('repository', 'project').required(),
  }).required(),
});

export const notFound = errorResponse(
  'no such integration',
  'INTEGRATION.NOT_FOUND',
  'integration x does not exist',
);

export const integrationExample = {
  id: '6c1f3a52-0c7e-4d5e-9d8a-2f1b7c9e4a10',
  name: 'bitbucket-prod',
  apiHost: 'https://bitbucket.example.com',
  userFacingHost: 'https://bitbucket.example.com',
  username: 'stacklink',
  labels: ['prod'],
  tls: {},
  webhooks: { mode: 'managed', scope: 'repository' },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  webhook: {
    endpoint: 'https://hooks.example.com/webhooks/bitbucket-dc/6c1f3a52-0c7e-4d5e-9d8a-2f1b7c9e4a10',
  },
};
