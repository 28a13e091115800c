import { AppError } from '@stacklink/errors';
import type { Logger } from '@stacklink/logger';
import type { IntegrationsPort, RepositoryCheck } from '../domain/ports';

export interface HttpIntegrationsOptions {
  /** Base URL of the integration service, e.g. http://127.0.0.1:8081. */
  integrationUrl: string;
  internalToken: string;
  logger: Logger;
  timeoutMs?: number;
}

interface Credentials {
  apiHost: string;
  username: string;
  accessToken: string;
}

/**
 * Asks the integration service for the integration's credentials (internal API, DESIGN.md §4), then
 * asks Bitbucket whether the repository exists. A token that cannot see the repository (401/403) or a
 * Bitbucket that does not answer makes the repository unverifiable, not missing.
 */
export function createHttpIntegrations(options: HttpIntegrationsOptions): IntegrationsPort {
  const timeoutMs = options.timeoutMs ?? 5000;
  return {
    async checkRepository(integrationId, repository): Promise<RepositoryCheck> {
      const url = `${options.integrationUrl.replace(/\/+$/, '')}/internal/v1/integrations/${encodeURIComponent(integrationId)}/credentials`;
      let response: Response;
      try {
        response = await fetch(url, {
          headers: { authorization: `Bearer ${options.internalToken}`, accept: 'application/json' },
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        throw new AppError('INTEGRATION.UNAVAILABLE', 'the integration service did not answer', {
          status: 503,
          retryable: true,
          cause: err,
        });
      }
      if (response.status === 404) return 'integration_not_found';
      if (!response.ok) {
        throw new AppError('INTEGRATION.UNAVAILABLE', `the integration service answered ${response.status}`, {
          status: 503,
          retryable: response.status >= 500,
        });
      }
      const credentials = (await response.json()) as Credentials;
      const repoUrl = `${credentials.apiHost.replace(/\/+$/, '')}/rest/api/latest/projects/${encodeURIComponent(repository.projectKey)}/repos/${encodeURIComponent(repository.slug)}`;
      try {
        const repo = await fetch(repoUrl, {
          headers: { authorization: `Bearer ${credentials.accessToken}`, accept: 'application/json' },
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (repo.ok) return 'ok';
        if (repo.status === 404) return 'repository_not_found';
        options.logger.warn('Bitbucket did not confirm the repository', {
          integrationId,
          status: repo.status,
        });
        return 'unverifiable';
      } catch (err) {
        options.logger.warn('Bitbucket unreachable while checking a repository', { integrationId, err });
        return 'unverifiable';
      }
    },
  };
}
