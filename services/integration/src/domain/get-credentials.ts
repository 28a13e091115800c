import type { WebhookSettings } from '@stacklink/contracts';
import { integrationNotFound } from './integration-errors';
import { webhookSettingsOf } from './integration-view';
import { openSecret } from './open-secret';
import type { IntegrationDeps } from './ports';

/** What stack-trigger needs to call Bitbucket for this integration (internal API only). */
export interface IntegrationCredentials {
  apiHost: string;
  username: string;
  accessToken: string;
  tls: { caCertificate?: string };
  /** The reconciler manages webhooks only when `managed` (docs/architecture.md §14). */
  webhooks: WebhookSettings;
}

export function createGetCredentials(deps: IntegrationDeps): (id: string) => Promise<IntegrationCredentials> {
  return async (id) => {
    const record = await deps.repository.findById(id);
    if (record === undefined) throw integrationNotFound(id);
    return {
      apiHost: record.apiHost,
      username: record.username,
      accessToken: openSecret(deps, record, 'accessToken'),
      tls: { ...record.tls },
      webhooks: { ...webhookSettingsOf(record) },
    };
  };
}
