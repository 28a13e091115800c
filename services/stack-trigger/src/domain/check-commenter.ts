import type { CanonicalEvent } from './canonical-event';
import type { Commenter } from './decide-triggers';
import { parseCommentCommand } from './parse-comment-command';
import type { CommentAuthorityPort } from './ports';

/**
 * The facts the trigger rules need about a `/stacklink` comment (docs/architecture.md §12): whether it
 * still exists and whether its author, as Bitbucket reports it, may write to the repository. Undefined
 * for every other event and for comments that are no command (nothing to check, nothing asked).
 */
export function createCheckCommenter(deps: { authority: CommentAuthorityPort }) {
  return async (event: CanonicalEvent): Promise<Commenter | undefined> => {
    if (event.type !== 'pull_request.comment_added') return undefined;
    if (parseCommentCommand(event.comment.text).kind === 'none') return undefined;
    const repository = { projectKey: event.repository.projectKey, slug: event.repository.slug };
    const comment = await deps.authority.readComment({
      integrationId: event.integrationId,
      repository,
      pullRequestId: event.pullRequest.id,
      commentId: event.comment.id,
    });
    if (comment.kind === 'vanished') return { kind: 'vanished' };
    const allowed = await deps.authority.canWrite({
      integrationId: event.integrationId,
      repository,
      user: comment.author,
    });
    return { kind: allowed ? 'writer' : 'refused', name: comment.author };
  };
}
