import { BitbucketErrorCode } from '@stacklink/bitbucket';
import { isAppError } from '@stacklink/errors';
import type { Logger } from '@stacklink/logger';
import type { IntegrationsPort, RepositoryCheck } from '../domain/ports';
import { createBitbucketClients, type BitbucketClients } from './bitbucket-clients';
import { createIntegrationCredentials } from './integration-credentials';

export interface HttpIntegrationsOptions {
  /** Base URL of the integration service, e.g. http://127.0.0.1:8081. */
  integrationUrl: string;
  internalToken: string;
  logger: Logger;
  timeoutMs?: number;
  /** Shared with other adapters of the process; built from the options above when absent. */
  clients?: BitbucketClients;
}

/**
 * Asks the integration service for the integration's credentials (internal API, docs/architecture.md §4),
 * then asks Bitbucket through libs/bitbucket (with the integration's CA certificate) whether the repository
 * exists. A token that cannot see the repository (401/403), a Bitbucket that does not answer, or a 404
 * that is not Bitbucket's own "no such repository" makes the repository unverifiable, not missing.
 */
export function createHttpIntegrations(options: HttpIntegrationsOptions): IntegrationsPort {
  const timeoutMs = options.timeoutMs ?? 5000;
  const clients =
    options.clients ??
    createBitbucketClients(
      createIntegrationCredentials({
        integrationUrl: options.integrationUrl,
        internalToken: options.internalToken,
        timeoutMs,
      }),
      // Someone is waiting for the API's answer: one retry at most, within about one timeout.
      { timeoutMs, retry: { maxAttempts: 2, maxTotalMs: timeoutMs } },
    );
  return {
    async checkRepository(integrationId, repository): Promise<RepositoryCheck> {
      let client;
      try {
        client = await clients.forIntegration(integrationId);
      } catch (err) {
        if (isAppError(err) && err.code === 'INTEGRATION.NOT_FOUND') return 'integration_not_found';
        throw err;
      }
      try {
        await client.getRepository(repository.projectKey, repository.slug);
        return 'ok';
      } catch (err) {
        if (isAppError(err) && err.code === BitbucketErrorCode.NOT_FOUND && saidByBitbucket(err.details))
          return 'repository_not_found';
        options.logger.warn('Bitbucket did not confirm the repository', {
          integrationId,
          code: isAppError(err) ? err.code : undefined,
          err,
        });
        return 'unverifiable';
      }
    },
  };
}

function saidByBitbucket(details: unknown): boolean {
  const d = details as { messages?: unknown[]; exceptionNames?: unknown[] } | undefined;
  return (d?.messages?.length ?? 0) > 0 || (d?.exceptionNames?.length ?? 0) > 0;
}
