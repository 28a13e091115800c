import { integrationNotFound } from './integration-errors';
import { openSecret } from './open-secret';
import type { IntegrationDeps } from './ports';

/** What stack-trigger needs to call Bitbucket for this integration (internal API only). */
export interface IntegrationCredentials {
  apiHost: string;
  username: string;
  accessToken: string;
  tls: { caCertificate?: string };
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
    };
  };
}
