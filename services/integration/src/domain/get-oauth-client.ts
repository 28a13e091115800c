import { AppError } from '@stacklink/errors';
import { integrationNotFound } from './integration-errors';
import { openSecret } from './open-secret';
import type { IntegrationDeps } from './ports';

import type { IntegrationOAuthClient } from '@stacklink/contracts';

export function createGetOAuthClient(deps: IntegrationDeps): (id: string) => Promise<IntegrationOAuthClient> {
  return async (id) => {
    const record = await deps.repository.findById(id);
    if (record === undefined) throw integrationNotFound(id);
    if (record.oauth === undefined)
      throw new AppError('INTEGRATION.OAUTH_NOT_CONFIGURED', `integration ${id} has no OAuth client`, {
        status: 404,
      });
    return {
      clientId: record.oauth.clientId,
      clientSecret: openSecret(deps, record, 'oauthClientSecret'),
      apiHost: record.apiHost,
      userFacingHost: record.userFacingHost,
      tls: { ...record.tls },
    };
  };
}
