import { BitbucketErrorCode } from '@stacklink/bitbucket';
import { isAppError } from '@stacklink/errors';
import type { CommentRepliesPort } from '../domain/ports';
import type { BitbucketClients } from './bitbucket-clients';

/**
 * Answers a `/stacklink` command as a reply to the command's own comment (docs/architecture.md §7). Creating
 * a comment is retried by libs/bitbucket only when Bitbucket certainly did not act (429, refused
 * connection); any other failure fails the event, which the bus retries.
 *
 * The same event can come again after its reply was posted (a worker that died before acking it), so
 * the replies of the command's comment are read first: the same text already there is our answer, and
 * it is not posted twice.
 */
export function createBitbucketCommentReplies(clients: BitbucketClients): CommentRepliesPort {
  return {
    async reply(target) {
      const client = await clients.forIntegration(target.integrationId);
      const { projectKey, slug } = target.repository;
      let command;
      try {
        command = await client.getPullRequestComment(
          projectKey,
          slug,
          target.pullRequestId,
          target.parentCommentId,
        );
      } catch (err) {
        // Deleted since it was read: nobody to answer, and no reason to park the event
        // (docs/architecture.md §12).
        if (isAppError(err) && err.code === BitbucketErrorCode.NOT_FOUND) return;
        throw err;
      }
      if ((command.comments ?? []).some((reply) => reply.text === target.text)) return;
      await client.createPullRequestComment(projectKey, slug, target.pullRequestId, target.text, {
        parentId: target.parentCommentId,
      });
    },
  };
}
