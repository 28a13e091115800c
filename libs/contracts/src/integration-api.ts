import Joi from 'joi';
import { AppError } from '@stacklink/errors';
import { registerSecret } from '@stacklink/logger';
import { callInternal, type InternalClientOptions } from './internal-http';
import { webhookSettingsSchema, type WebhookSettings } from './webhook-health';

/**
 * The integration service's internal API (docs/architecture.md §4), behind INTERNAL_TOKEN:
 * `GET /internal/v1/integrations/{id}/webhook-secrets` for gateways and
 * `GET /internal/v1/integrations/{id}/credentials` for stack-trigger. Both answer 404 for an unknown
 * integration.
 */
export const webhookSecretsPath = (integrationId: string): string =>
  `integrations/${encodeURIComponent(integrationId)}/webhook-secrets`;
export const credentialsPath = (integrationId: string): string =>
  `integrations/${encodeURIComponent(integrationId)}/credentials`;

/** `GET /internal/v1/integrations/{id}/oauth-client`, for the console's sign in with Bitbucket. */
export const oauthClientPath = (integrationId: string): string =>
  `integrations/${encodeURIComponent(integrationId)}/oauth-client`;

export interface WebhookSecretsAnswer {
  /** Current first; then the previous one while its grace period lasts. */
  secrets: { value: string; validUntil?: string }[];
}

export const webhookSecretsAnswerSchema: Joi.ObjectSchema = Joi.object({
  secrets: Joi.array()
    .items(Joi.object({ value: Joi.string().min(1).required(), validUntil: Joi.string().isoDate() }))
    .min(1)
    .required(),
});

/** What stack-trigger needs to call Bitbucket for an integration. */
export interface IntegrationCredentials {
  apiHost: string;
  username: string;
  accessToken: string;
  tls: { caCertificate?: string };
  /** The integration's webhook setting (§14); absent from services that predate it (read: manual). */
  webhooks?: WebhookSettings;
}

export const credentialsAnswerSchema: Joi.ObjectSchema = Joi.object({
  apiHost: Joi.string().min(1).required(),
  username: Joi.string().allow('').required(),
  accessToken: Joi.string().min(1).required(),
  tls: Joi.object({ caCertificate: Joi.string() }).required(),
  webhooks: webhookSettingsSchema,
});

/** An integration's OAuth 2.0 client (Bitbucket's incoming application link) and where its Bitbucket is. */
export interface IntegrationOAuthClient {
  clientId: string;
  clientSecret: string;
  /** Where Stacklink calls Bitbucket (the token endpoint, the REST API). */
  apiHost: string;
  /** Where browsers reach Bitbucket (the authorization page). */
  userFacingHost: string;
  tls: { caCertificate?: string };
}

/**
 * The OAuth 2.0 client an operator copies from Bitbucket's application link, as the integration API's
 * `oauth` field and the console's form take it. Bitbucket shows a client id and secret of hex and
 * alphanumerics: bounded, no spaces. Labels come from the path (`oauth.clientId` in the API).
 */
export const oauthClientInputSchema: Joi.ObjectSchema = Joi.object({
  clientId: Joi.string()
    .trim()
    .min(1)
    .max(255)
    .pattern(/^[\x21-\x7e]+$/)
    .required()
    .messages({
      'string.empty': '{{#label}} is required: copy it from the application link',
      'string.pattern.base': '{{#label}} must be printable characters without spaces',
    }),
  clientSecret: Joi.string().min(1).max(4096).pattern(/^\S+$/).required().messages({
    'string.empty': '{{#label}} is required: copy it from the application link',
    'string.pattern.base': '{{#label}} must not contain spaces or line breaks',
  }),
});

export const oauthClientAnswerSchema: Joi.ObjectSchema = Joi.object({
  clientId: Joi.string().min(1).required(),
  clientSecret: Joi.string().min(1).required(),
  apiHost: Joi.string().min(1).required(),
  userFacingHost: Joi.string().min(1).required(),
  tls: Joi.object({ caCertificate: Joi.string() }).required(),
});

export interface IntegrationApiClient {
  /**
   * The integration's webhook secrets, or undefined when the integration does not exist. Throws
   * WEBHOOK.SECRETS_UNAVAILABLE (503, retryable) when there is no usable answer. Every secret is
   * registered with the logger, so it is redacted wherever it might appear.
   */
  webhookSecrets(integrationId: string): Promise<WebhookSecretsAnswer | undefined>;
  /**
   * The integration's Bitbucket credentials. Throws INTEGRATION.NOT_FOUND (404, not retryable) for an
   * unknown integration, INTEGRATION.UNAVAILABLE (503, retryable) when the service does not answer or
   * answers an error, INTEGRATION.INVALID_CREDENTIALS (502, retryable) for an answer without
   * credentials. The access token is registered with the logger.
   */
  credentials(integrationId: string): Promise<IntegrationCredentials>;
  /**
   * The integration's OAuth client, or undefined when the integration does not exist or has none (404).
   * Throws INTEGRATION.UNAVAILABLE (503, retryable) otherwise. The client secret is registered with the
   * logger.
   */
  oauthClient(integrationId: string): Promise<IntegrationOAuthClient | undefined>;
}

/** The one client of the integration service's internal API; 5 s timeout by default. */
export function createIntegrationApiClient(options: InternalClientOptions): IntegrationApiClient {
  const call = { ...options, defaultTimeoutMs: 5000 };
  const secretsUnavailable = (message: string, cause?: unknown) =>
    new AppError('WEBHOOK.SECRETS_UNAVAILABLE', message, { status: 503, retryable: true, cause });
  const integrationUnavailable = (message: string, cause?: unknown) =>
    new AppError('INTEGRATION.UNAVAILABLE', message, { status: 503, retryable: true, cause });

  return {
    async webhookSecrets(integrationId) {
      const answer = await callInternal<WebhookSecretsAnswer>(
        call,
        webhookSecretsPath(integrationId),
        webhookSecretsAnswerSchema,
        {
          unreachable: (cause) => secretsUnavailable('integration service unreachable', cause),
          answered: (status) => secretsUnavailable(`integration service answered ${status}`),
          invalid: (why) => secretsUnavailable(`integration service answered without secrets: ${why}`),
        },
        { notFoundIsAnswer: true },
      );
      for (const secret of answer?.secrets ?? []) registerSecret(secret.value);
      return answer;
    },

    async credentials(integrationId) {
      const answer = await callInternal<IntegrationCredentials>(
        call,
        credentialsPath(integrationId),
        credentialsAnswerSchema,
        {
          unreachable: (cause) => integrationUnavailable('the integration service did not answer', cause),
          answered: (status) =>
            status === 404
              ? new AppError('INTEGRATION.NOT_FOUND', `integration ${integrationId} does not exist`, {
                  status: 404,
                  retryable: false,
                })
              : // 401/403 mean INTERNAL_TOKEN differs between the services: a configuration error, but one
                // an operator fixes by restarting with the right token, after which the retried event goes
                // through.
                integrationUnavailable(`the integration service answered ${status}`),
          invalid: (why) =>
            new AppError(
              'INTEGRATION.INVALID_CREDENTIALS',
              `the integration service answered without credentials: ${why}`,
              { status: 502, retryable: true },
            ),
        },
      );
      // Without notFoundIsAnswer there is always an answer.
      const { apiHost, username, accessToken, tls, webhooks } = answer!;
      registerSecret(accessToken);
      return {
        apiHost,
        username,
        accessToken,
        tls: tls.caCertificate === undefined ? {} : { caCertificate: tls.caCertificate },
        ...(webhooks === undefined ? {} : { webhooks: { mode: webhooks.mode, scope: webhooks.scope } }),
      };
    },

    async oauthClient(integrationId) {
      const answer = await callInternal<IntegrationOAuthClient>(
        call,
        oauthClientPath(integrationId),
        oauthClientAnswerSchema,
        {
          unreachable: (cause) => integrationUnavailable('the integration service did not answer', cause),
          answered: (status) => integrationUnavailable(`the integration service answered ${status}`),
          invalid: (why) =>
            integrationUnavailable(`the integration service answered without a client: ${why}`),
        },
        { notFoundIsAnswer: true },
      );
      if (answer === undefined) return undefined;
      registerSecret(answer.clientSecret);
      const { clientId, clientSecret, apiHost, userFacingHost, tls } = answer;
      return {
        clientId,
        clientSecret,
        apiHost,
        userFacingHost,
        tls: tls.caCertificate === undefined ? {} : { caCertificate: tls.caCertificate },
      };
    },
  };
}
