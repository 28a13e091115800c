import { randomUUID } from 'node:crypto';
import type { WebhookSettings } from '@stacklink/contracts';
import { announceChange } from './announce-change';
import { generateWebhookSecret } from './generate-webhook-secret';
import { toIntegrationView, webhookEndpoint, type IntegrationView } from './integration-view';
import type { IntegrationDeps, IntegrationRecord } from './ports';

export interface CreateIntegrationInput {
  name: string;
  /** Already normalized (see normalizeHostUrl). */
  apiHost: string;
  userFacingHost: string;
  username: string;
  accessToken: string;
  description?: string;
  labels?: string[];
  tls?: { caCertificate?: string };
  webhooks?: WebhookSettings;
  /** The OAuth 2.0 client of "sign in with Bitbucket" (optional). */
  oauth?: { clientId: string; clientSecret: string };
}

export interface CreatedIntegration extends Omit<IntegrationView, 'webhook'> {
  /** The only time the webhook secret is shown. */
  webhook: { endpoint: string; secret: string };
}

export function createCreateIntegration(
  deps: IntegrationDeps,
): (input: CreateIntegrationInput) => Promise<CreatedIntegration> {
  return async (input) => {
    deps.registerSecret(input.accessToken);
    const id = randomUUID();
    const webhookSecret = generateWebhookSecret();
    deps.registerSecret(webhookSecret);
    const now = deps.clock.now().toISOString();
    const record: IntegrationRecord = {
      id,
      name: input.name,
      apiHost: input.apiHost,
      userFacingHost: input.userFacingHost,
      username: input.username,
      labels: input.labels ?? [],
      tls: input.tls?.caCertificate === undefined ? {} : { caCertificate: input.tls.caCertificate },
      secrets: {
        accessToken: deps.cipher.encrypt(input.accessToken, { recordId: id, field: 'accessToken' }),
        webhookSecret: deps.cipher.encrypt(webhookSecret, { recordId: id, field: 'webhookSecret' }),
      },
      revision: 1,
      createdAt: now,
      updatedAt: now,
    };
    if (input.description !== undefined) record.description = input.description;
    if (input.webhooks !== undefined) record.webhooks = { ...input.webhooks };
    if (input.oauth !== undefined) {
      deps.registerSecret(input.oauth.clientSecret);
      record.oauth = { clientId: input.oauth.clientId };
      record.secrets.oauthClientSecret = deps.cipher.encrypt(input.oauth.clientSecret, {
        recordId: id,
        field: 'oauthClientSecret',
      });
    }
    await deps.repository.insert(record);
    deps.logger.info('integration created', { integrationId: id, name: record.name });
    await announceChange(deps, 'integration.created', id);
    const view = toIntegrationView(record, deps.publicWebhookBaseUrl, deps.clock.now());
    return {
      ...view,
      webhook: { endpoint: webhookEndpoint(deps.publicWebhookBaseUrl, id), secret: webhookSecret },
    };
  };
}
