import { AppError } from '@stacklink/errors';
import type { WebhookHealthEntry, WebhookSettings } from '@stacklink/contracts';
import { integrationNotFound } from './integration-errors';
import { webhookSettingsOf } from './integration-view';
import type { IntegrationDeps } from './ports';

export interface IntegrationWebhooks extends WebhookSettings {
  integrationId: string;
  /** Said when it matters: a manual integration's hooks are left as they are. */
  note?: string;
  webhooks: WebhookHealthEntry[];
}

/**
 * `GET /api/v1/integrations/{id}/webhooks` (docs/architecture.md §14): the setting, and each repository's
 * (or project's) webhook health as stack-trigger's reconciler last recorded it.
 */
export function createGetWebhookHealth(
  deps: Pick<IntegrationDeps, 'repository' | 'webhookHealth'>,
): (id: string) => Promise<IntegrationWebhooks> {
  return async (id) => {
    const record = await deps.repository.findById(id);
    if (record === undefined) throw integrationNotFound(id);
    const settings = webhookSettingsOf(record);
    if (deps.webhookHealth === undefined)
      throw new AppError('STACK_TRIGGER.UNAVAILABLE', 'webhook health is not reported by this deployment', {
        status: 503,
        retryable: true,
      });
    const webhooks = await deps.webhookHealth.webhookHealth(id);
    return {
      integrationId: id,
      ...settings,
      ...(settings.mode === 'manual'
        ? {
            note: 'manual: Stacklink creates, repairs and removes no webhook; hooks already in Bitbucket stay as they are. Missed events are still recovered.',
          }
        : {}),
      webhooks,
    };
  };
}
