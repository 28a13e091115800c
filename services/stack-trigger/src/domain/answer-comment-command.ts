import type { CanonicalEvent } from './canonical-event';
import type { TriggerDecision } from './decide-triggers';
import type { CommentRepliesPort } from './ports';

const NOTHING_TO_RETRY =
  'Nothing to retry: the proposed runs of the latest commit are queued, running or finished.';

/**
 * Replies to a `/stacklink` comment on its pull request: the decision's own reply, or, for a retry that
 * neither requeued nor created a run, why nothing happened. Answers the text replied, if any.
 */
export function createAnswerCommentCommand(deps: { replies: CommentRepliesPort }) {
  return async (
    event: CanonicalEvent,
    decision: TriggerDecision,
    retry: { retried: number; created: number; operatorCanceled?: readonly string[] },
  ): Promise<string | undefined> => {
    let reply = decision.reply;
    const operatorCanceled = retry.operatorCanceled ?? [];
    if (reply === undefined && operatorCanceled.length > 0)
      reply = `Not retried: the run of ${operatorCanceled.map((n) => `\`${n}\``).join(', ')} was canceled by an operator. Ask an operator to start it again.`;
    if (reply === undefined && decision.retry.length > 0 && retry.retried === 0 && retry.created === 0)
      reply = NOTHING_TO_RETRY;
    if (reply === undefined || event.type !== 'pull_request.comment_added') return undefined;
    await deps.replies.reply({
      integrationId: event.integrationId,
      repository: { projectKey: event.repository.projectKey, slug: event.repository.slug },
      pullRequestId: event.pullRequest.id,
      parentCommentId: event.comment.id,
      text: reply,
    });
    return reply;
  };
}
