import Joi from 'joi';
import { AppError } from '@stacklink/errors';
import { registerSecret } from '@stacklink/logger';
import {
  callInternal,
  checkAnswer,
  discardBody,
  jsonBody,
  type InternalClientOptions,
} from './internal-http';

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
}

export const credentialsAnswerSchema: Joi.ObjectSchema = Joi.object({
  apiHost: Joi.string().min(1).required(),
  username: Joi.string().allow('').required(),
  accessToken: Joi.string().min(1).required(),
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
      const res = await callInternal(call, webhookSecretsPath(integrationId), {
        unavailable: (_message, cause) => secretsUnavailable('integration service unreachable', cause),
      });
      if (res.status === 404) {
        await discardBody(res);
        return undefined;
      }
      if (!res.ok) {
        await discardBody(res);
        throw secretsUnavailable(`integration service answered ${res.status}`);
      }
      const checked = checkAnswer<WebhookSecretsAnswer>(webhookSecretsAnswerSchema, await jsonBody(res));
      if (checked.error !== undefined)
        throw secretsUnavailable(`integration service answered without secrets: ${checked.error}`);
      const answer = checked.value;
      for (const secret of answer.secrets) registerSecret(secret.value);
      return answer;
    },

    async credentials(integrationId) {
      const res = await callInternal(call, credentialsPath(integrationId), {
        unavailable: (_message, cause) =>
          integrationUnavailable('the integration service did not answer', cause),
      });
      if (res.status === 404) {
        await discardBody(res);
        throw new AppError('INTEGRATION.NOT_FOUND', `integration ${integrationId} does not exist`, {
          status: 404,
          retryable: false,
        });
      }
      if (!res.ok) {
        await discardBody(res);
        // 401/403 mean INTERNAL_TOKEN differs between the services: a configuration error, but one an
        // operator fixes by restarting with the right token, after which the retried event goes through.
        throw integrationUnavailable(`the integration service answered ${res.status}`);
      }
      const checked = checkAnswer<IntegrationCredentials>(credentialsAnswerSchema, await jsonBody(res));
      if (checked.error !== undefined) {
        throw new AppError(
          'INTEGRATION.INVALID_CREDENTIALS',
          `the integration service answered without credentials: ${checked.error}`,
          { status: 502, retryable: true },
        );
      }
      const answer = checked.value;
      registerSecret(answer.accessToken);
      return {
        apiHost: answer.apiHost,
        username: answer.username,
        accessToken: answer.accessToken,
        tls: answer.tls.caCertificate === undefined ? {} : { caCertificate: answer.tls.caCertificate },
      };
    },
  };
}
