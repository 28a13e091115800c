import { DEFAULT_WEBHOOK_SETTINGS, type WebhookSettings } from '@stacklink/contracts';
import type { IntegrationRecord } from './ports';

/** What the public API shows of an integration: never the access token, never a webhook secret. */
export type IntegrationView = Pick<
  IntegrationRecord,
  | 'id'
  | 'name'
  | 'apiHost'
  | 'userFacingHost'
  | 'username'
  | 'description'
  | 'labels'
  | 'tls'
  | 'createdAt'
  | 'updatedAt'
> & {
  webhook: { endpoint: string; previousSecretValidUntil?: string };
  webhooks: WebhookSettings;
  /** The sign-in client's id; its secret is never shown. */
  oauth?: { clientId: string; configured: true };
};

/** The integration's webhook setting; manual per repository when never set (docs/architecture.md §14). */
export function webhookSettingsOf(record: IntegrationRecord): WebhookSettings {
  return record.webhooks ?? DEFAULT_WEBHOOK_SETTINGS;
}

/** The URL to paste into each repository's webhook settings (docs/architecture.md §4). */
export function webhookEndpoint(publicWebhookBaseUrl: string, integrationId: string): string {
  return `${publicWebhookBaseUrl.replace(/\/+$/, '')}/webhooks/bitbucket-dc/${encodeURIComponent(integrationId)}`;
}

export function toIntegrationView(
  record: IntegrationRecord,
  publicWebhookBaseUrl: string,
  now: Date,
): IntegrationView {
  const view: IntegrationView = {
    id: record.id,
    name: record.name,
    apiHost: record.apiHost,
    userFacingHost: record.userFacingHost,
    username: record.username,
    labels: [...record.labels],
    tls: record.tls.caCertificate === undefined ? {} : { caCertificate: record.tls.caCertificate },
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    webhook: { endpoint: webhookEndpoint(publicWebhookBaseUrl, record.id) },
    webhooks: { ...webhookSettingsOf(record) },
  };
  if (record.description !== undefined) view.description = record.description;
  if (record.oauth !== undefined) view.oauth = { clientId: record.oauth.clientId, configured: true };
  const validUntil = previousSecretValidUntil(record, now);
  if (validUntil !== undefined) view.webhook.previousSecretValidUntil = validUntil;
  return view;
}

/** When the previous webhook secret is still served, until when; undefined otherwise. */
export function previousSecretValidUntil(record: IntegrationRecord, now: Date): string | undefined {
  const until = record.previousWebhookSecretValidUntil;
  if (record.secrets.previousWebhookSecret === undefined || until === undefined) return undefined;
  return Date.parse(until) > now.getTime() ? until : undefined;
}
