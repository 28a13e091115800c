import { BitbucketErrorCode, type PullRequest } from '@stacklink/bitbucket';
import { AppError, isAppError } from '@stacklink/errors';
import type { ConfirmationPort, CurrentPullRequest } from '../domain/ports';
import type { BitbucketClients } from './bitbucket-clients';

/**
 * What Bitbucket shows now, for the confirmation of docs/architecture.md §12, over libs/bitbucket:
 * branch-utils `branches/info/{commit}` (the branches containing a commit), the tags resource (a tag's
 * commit and tag object), `commits?until=&since=&limit=1` (whether one commit is an ancestor of another) and the pull
 * request resource.
 *
 * A 404 is an answer (the commit, tag or pull request does not exist: `undefined`); Bitbucket
 * unreachable, 5xx or 429 is a retryable AppError, so the bus tries the event again later.
 */
export function createBitbucketConfirmation(clients: BitbucketClients): ConfirmationPort {
  return {
    async branchesContaining(event, commit) {
      const { projectKey, slug } = event.repository;
      const client = await clients.forIntegration(event.integrationId);
      const branches = await unlessMissing(() => client.listBranchesContaining(projectKey, slug, commit));
      return branches?.values.map((b) => ({ ref: b.id, head: b.latestCommit ?? b.latestChangeset ?? '' }));
    },

    async tag(event, ref) {
      const { projectKey, slug } = event.repository;
      const client = await clients.forIntegration(event.integrationId);
      const tag = await unlessMissing(() => client.getTag(projectKey, slug, ref));
      if (tag === undefined) return undefined;
      const commit = tag.latestCommit ?? tag.latestChangeset;
      if (commit === undefined) return undefined;
      return typeof tag.hash === 'string' && tag.hash !== commit ? { commit, object: tag.hash } : { commit };
    },

    async isAncestor(event, commit, descendant) {
      const { projectKey, slug } = event.repository;
      const client = await clients.forIntegration(event.integrationId);
      const page = await unlessMissing(() =>
        client.listCommits(projectKey, slug, { until: commit, since: descendant, limit: 1 }),
      );
      return page === undefined ? undefined : page.values.length === 0;
    },

    async pullRequest(event, id) {
      const { projectKey, slug } = event.repository;
      const client = await clients.forIntegration(event.integrationId);
      const pr = await unlessMissing(() => client.getPullRequest(projectKey, slug, id));
      return pr === undefined ? undefined : currentOf(pr);
    },
  };
}

function currentOf(pr: PullRequest): CurrentPullRequest {
  const side = (ref: PullRequest['fromRef']) => ({
    ref: ref.id,
    commit: ref.latestCommit,
    repository: { projectKey: ref.repository.project.key, slug: ref.repository.slug },
  });
  return {
    state: pr.state === 'MERGED' ? 'merged' : pr.state === 'DECLINED' ? 'declined' : 'open',
    source: side(pr.fromRef),
    target: side(pr.toRef),
  };
}

async function unlessMissing<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (err) {
    if (!isAppError(err)) throw err;
    if (err.code === BitbucketErrorCode.NOT_FOUND) return undefined;
    if (err.code === BitbucketErrorCode.UNREACHABLE && !err.retryable) {
      // Network failures without a known code are still worth trying again later.
      throw new AppError(err.code, err.message, {
        status: 503,
        retryable: true,
        cause: err,
        details: err.details,
      });
    }
    throw err;
  }
}
