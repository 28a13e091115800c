import { BitbucketErrorCode, splitCommentText } from '@stacklink/bitbucket';
import { isAppError } from '@stacklink/errors';
import type { PullRequestCommentsPort } from '../domain/reporter-ports';
import type { RateLimitedBitbucket } from './bitbucket-commit-statuses';

/**
 * Pull-request comments through the host's shared rate limit. A text over Bitbucket's 32,768
 * characters is split by libs/bitbucket (`postLongPullRequestComment`): the first part is the comment
 * the run keeps, the rest are replies to it. An edit replaces the first part in place and posts any
 * overflow as new replies.
 */
export function createBitbucketPullRequestComments(call: RateLimitedBitbucket): PullRequestCommentsPort {
  return {
    async create(target, text) {
      const { projectKey, slug } = target.repository;
      const [head] = await call(target.integrationId, (client) =>
        client.postLongPullRequestComment(projectKey, slug, target.pullRequestId, text),
      );
      return { id: head!.id, version: head!.version };
    },
    async update(target, comment, text) {
      const { projectKey, slug } = target.repository;
      const [first = '', ...overflow] = splitCommentText(text);
      let updated;
      try {
        updated = await call(target.integrationId, (client) =>
          client.updatePullRequestComment(projectKey, slug, target.pullRequestId, comment.id, {
            text: first,
            version: comment.version,
          }),
        );
      } catch (err) {
        if (isAppError(err) && err.code === BitbucketErrorCode.CONFLICT) return { outcome: 'stale' };
        if (isAppError(err) && err.code === BitbucketErrorCode.NOT_FOUND) return { outcome: 'gone' };
        throw err;
      }
      for (const part of overflow) {
        await call(target.integrationId, (client) =>
          client.createPullRequestComment(projectKey, slug, target.pullRequestId, part, {
            parentId: comment.id,
          }),
        );
      }
      return { outcome: 'updated', comment: { id: updated.id, version: updated.version } };
    },
    async recent(target) {
      const { projectKey, slug } = target.repository;
      const { values } = await call(target.integrationId, (client) =>
        client.listPullRequestActivities(projectKey, slug, target.pullRequestId),
      );
      // A comment's ADDED activity carries the comment as it is now (edits included).
      return values.flatMap(({ action, commentAction, comment }) =>
        action === 'COMMENTED' && commentAction === 'ADDED' && comment && comment.parent === undefined
          ? [{ id: comment.id, version: comment.version, text: comment.text }]
          : [],
      );
    },
    async get(target, commentId) {
      const { projectKey, slug } = target.repository;
      try {
        const found = await call(target.integrationId, (client) =>
          client.getPullRequestComment(projectKey, slug, target.pullRequestId, commentId),
        );
        return { id: found.id, version: found.version };
      } catch (err) {
        if (isAppError(err) && err.code === BitbucketErrorCode.NOT_FOUND) return undefined;
        throw err;
      }
    },
  };
}
