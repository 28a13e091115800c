import type { CommentRepliesPort } from '../domain/ports';
import type { BitbucketClients } from './bitbucket-clients';

/**
 * Answers a `/stacklink` command as a reply to the command's own comment (DESIGN.md §7). Creating a
 * comment is retried by libs/bitbucket only when Bitbucket certainly did not act (429, refused
 * connection); any other failure fails the event, which the bus retries.
 */
export function createBitbucketCommentReplies(clients: BitbucketClients): CommentRepliesPort {
  return {
    async reply(target) {
      const client = await clients.forIntegration(target.integrationId);
      await client.createPullRequestComment(
        target.repository.projectKey,
        target.repository.slug,
        target.pullRequestId,
        target.text,
        { parentId: target.parentCommentId },
      );
    },
  };
}
