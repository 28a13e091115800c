import { createHash } from 'node:crypto';
import { createBitbucketClient, type BitbucketClient, type Repository } from '@stacklink/bitbucket';
import type { BitbucketClientFactoryPort, BitbucketPort, BitbucketRepository } from '../domain/ports';

export interface BitbucketClientFactoryOptions {
  /** BITBUCKET_TIMEOUT_MS: each HTTP call. */
  timeoutMs: number;
  /** Clients kept for reuse of their keep-alive connections. */
  maxCachedClients?: number;
}

/**
 * Builds ports over libs/bitbucket. Clients are cached by a hash of their credentials, so a changed
 * token or CA certificate gets a fresh client and an unchanged one reuses its connections.
 */
export function createBitbucketClientFactory(
  options: BitbucketClientFactoryOptions,
): BitbucketClientFactoryPort {
  const cache = new Map<string, BitbucketPort>();
  const max = options.maxCachedClients ?? 100;
  return (credentials) => {
    const key = createHash('sha256')
      .update(
        JSON.stringify([
          credentials.apiHost,
          credentials.username,
          credentials.accessToken,
          credentials.caCertificate ?? '',
        ]),
      )
      .digest('hex');
    const cached = cache.get(key);
    if (cached) return cached;
    const client = createBitbucketClient({
      baseUrl: credentials.apiHost,
      token: credentials.accessToken,
      username: credentials.username,
      timeoutMs: options.timeoutMs,
      // An operator is waiting for the answer: one retry at most, within about one timeout.
      retry: { maxAttempts: 2, maxTotalMs: options.timeoutMs },
      ...(credentials.caCertificate === undefined ? {} : { caCertificate: credentials.caCertificate }),
    });
    const port = toPort(client);
    if (cache.size >= max) cache.delete(cache.keys().next().value!);
    cache.set(key, port);
    return port;
  };
}

function toPort(client: BitbucketClient): BitbucketPort {
  return {
    async getServerVersion() {
      return (await client.getServerVersion()).version;
    },
    async checkCredentials() {
      const credentials = await client.checkCredentials();
      return { username: credentials.username };
    },
    async listProjects(limit) {
      const page = await client.listProjects({ limit });
      return page.values.map((p) => ({ key: p.key, name: p.name ?? p.key }));
    },
    async buildStatusApi() {
      return (await client.getBuildCapabilities()).repositoryScoped ? 'repository' : 'legacy';
    },
    async listRepositories(query) {
      const page = await client.listRepositories({
        start: query.start,
        limit: query.limit,
        ...(query.project === undefined ? {} : { projectKey: query.project }),
        ...(query.filter === undefined || query.filter === '' ? {} : { filter: query.filter }),
      });
      const result = {
        values: page.values.map(toRepository),
        start: page.start ?? query.start,
        limit: page.limit ?? query.limit,
        isLastPage: page.isLastPage,
      };
      return typeof page.nextPageStart === 'number' && !page.isLastPage
        ? { ...result, nextPageStart: page.nextPageStart }
        : result;
    },
  };
}

function toRepository(r: Repository): BitbucketRepository {
  const repository: BitbucketRepository = { projectKey: r.project.key, slug: r.slug, name: r.name, id: r.id };
  if (r.project.name !== undefined) repository.projectName = r.project.name;
  return repository;
}
