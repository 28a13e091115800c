import { integrationNotFound } from './integration-errors';
import { toIntegrationView, type IntegrationView } from './integration-view';
import type { IntegrationDeps } from './ports';

export async function getIntegration(deps: IntegrationDeps, id: string): Promise<IntegrationView> {
  const record = await deps.repository.findById(id);
  if (record === undefined) throw integrationNotFound(id);
  return toIntegrationView(record, deps.publicWebhookBaseUrl, deps.clock.now());
}

export async function listIntegrations(deps: IntegrationDeps): Promise<IntegrationView[]> {
  const now = deps.clock.now();
  return (await deps.repository.list()).map((r) => toIntegrationView(r, deps.publicWebhookBaseUrl, now));
}
