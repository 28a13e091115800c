import { integrationNotFound } from './integration-errors';
import { toIntegrationView, type IntegrationView } from './integration-view';
import type { IntegrationDeps } from './ports';

export function createGetIntegration(deps: IntegrationDeps): (id: string) => Promise<IntegrationView> {
  return async (id) => {
    const record = await deps.repository.findById(id);
    if (record === undefined) throw integrationNotFound(id);
    return toIntegrationView(record, deps.publicWebhookBaseUrl, deps.clock.now());
  };
}

export function createListIntegrations(deps: IntegrationDeps): () => Promise<IntegrationView[]> {
  return async () => {
    const now = deps.clock.now();
    return (await deps.repository.list()).map((r) => toIntegrationView(r, deps.publicWebhookBaseUrl, now));
  };
}
