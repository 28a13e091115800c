import { BitbucketErrorCode } from '@stacklink/bitbucket';
import { isAppError } from '@stacklink/errors';
import type { CommentAuthorityPort } from '../domain/ports';
import type { BitbucketClients } from './bitbucket-clients';

/** How long a permission answer is trusted (docs/architecture.md §12: cached briefly). */
export const PERMISSION_CACHE_MS = 60_000;
const PERMISSION_CACHE_SIZE = 10_000;

/**
 * Reads a command's comment back and asks Bitbucket whether its author may write to the repository:
 * `GET /rest/api/1.0/users?filter=<name>&permission.1=REPO_WRITE&permission.1.projectKey=…
 * &permission.1.repositorySlug=…`, which counts every way the permission is held (repository, project,
 * group, global admin) and needs only a licensed account, not REPO_ADMIN.
 *
 * The answer is cached per worker for at most 60 s: a revoked permission stops working within that
 * bound on every worker alike, and with N workers a busy commenter costs at most N lookups a minute,
 * so a shared Redis entry would save little and add a dependency on the decision path.
 *
 * A comment Bitbucket no longer has (404) is `vanished`; every other failure keeps its retryable flag,
 * so an unreachable Bitbucket retries the event later.
 */
export function createBitbucketCommentAuthority(
  clients: BitbucketClients,
  now: () => number = Date.now,
): CommentAuthorityPort {
  const cache = new Map<string, { allowed: boolean; until: number }>();
  return {
    async readComment({ integrationId, repository, pullRequestId, commentId }) {
      const client = await clients.forIntegration(integrationId);
      try {
        const comment = await client.getPullRequestComment(
          repository.projectKey,
          repository.slug,
          pullRequestId,
          commentId,
        );
        return { kind: 'found', author: comment.author.name };
      } catch (err) {
        if (isAppError(err) && err.code === BitbucketErrorCode.NOT_FOUND) return { kind: 'vanished' };
        throw err;
      }
    },

    async canWrite({ integrationId, repository, user }) {
      if (user === '') return false;
      const key = JSON.stringify([integrationId, repository.projectKey, repository.slug, user]);
      const cached = cache.get(key);
      if (cached !== undefined && cached.until > now()) return cached.allowed;
      const client = await clients.forIntegration(integrationId);
      const allowed = await client.userHasRepositoryPermission(
        repository.projectKey,
        repository.slug,
        user,
        'REPO_WRITE',
      );
      cache.delete(key);
      if (cache.size >= PERMISSION_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      cache.set(key, { allowed, until: now() + PERMISSION_CACHE_MS });
      return allowed;
    },
  };
}
