import { AppError, isAppError } from '@stacklink/errors';
import { explainBitbucketError } from './explain-bitbucket-error';
import { integrationNotFound } from './integration-errors';
import { openSecret } from './open-secret';
import type { IntegrationDeps, RepositoryPage, RepositoryQuery } from './ports';

/** Repositories the integration's token can see, one page at a time (for the stack form's picker). */
export function createListRepositories(
  deps: IntegrationDeps,
): (id: string, query: RepositoryQuery) => Promise<RepositoryPage> {
  return async (id, query) => {
    const record = await deps.repository.findById(id);
    if (record === undefined) throw integrationNotFound(id);
    const client = deps.bitbucket({
      apiHost: record.apiHost,
      username: record.username,
      accessToken: openSecret(deps, record, 'accessToken'),
      ...(record.tls.caCertificate === undefined ? {} : { caCertificate: record.tls.caCertificate }),
    });
    let page: RepositoryPage;
    try {
      page = await client.listRepositories(query);
    } catch (err) {
      throw bitbucketFailure(err, record.apiHost, record.username, query);
    }
    // Links are for people: they point at the user-facing host, not at the API host Stacklink uses.
    const values = page.values.map((r) => ({
      ...r,
      url: `${record.userFacingHost}/projects/${encodeURIComponent(r.projectKey)}/repos/${encodeURIComponent(r.slug)}/browse`,
    }));
    return { ...page, values };
  };
}

/**
 * A Bitbucket failure is not the caller's fault: answering 401 would make the operator doubt their
 * ADMIN_TOKEN. It becomes a 502 (the upstream failed) carrying the same advice as the connection test.
 */
function bitbucketFailure(err: unknown, apiHost: string, username: string, query: RepositoryQuery): AppError {
  if (isAppError(err) && err.code === 'BITBUCKET.NOT_FOUND' && query.project !== undefined) {
    const message = `"project" ${query.project} does not exist or the token of ${username} cannot see it`;
    return new AppError('INTEGRATION.PROJECT_NOT_FOUND', message, {
      status: 404,
      details: { fields: [{ field: 'project', message }] },
    });
  }
  const explanation = explainBitbucketError(err, { apiHost, username, during: 'permissions' });
  return new AppError('INTEGRATION.BITBUCKET_FAILED', explanation.message, {
    status: 502,
    retryable: ['unreachable', 'timeout', 'server_error', 'rate_limited', 'connection_reset'].includes(
      explanation.outcome,
    ),
    details: { outcome: explanation.outcome, bitbucketCode: isAppError(err) ? err.code : undefined },
    cause: err,
  });
}
