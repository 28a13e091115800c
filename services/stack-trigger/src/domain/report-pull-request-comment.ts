import { AppError } from '@stacklink/errors';
import type { Logger } from '@stacklink/logger';
import { runUrl, STATE_WORDS } from './commit-status';
import type { RunCommentRepositoryPort, StackRepositoryPort } from './ports';
import type { RunStateUpdate } from './report-commit-status';
import type { PostedComment, PullRequestCommentsPort, PullRequestTarget } from './reporter-ports';

export interface ReportPullRequestCommentDeps {
  stacks: Pick<StackRepositoryPort, 'get'>;
  runComments: RunCommentRepositoryPort;
  comments: PullRequestCommentsPort;
  logger: Logger;
  publicUiUrl: string;
  /** Edits tried when Bitbucket keeps answering that the comment changed meanwhile (409). */
  conflictTries?: number;
}

export type CommentOutcome = 'created' | 'updated' | 'skipped';

/** How every comment of ours begins. */
const COMMENT_HEADING = '**Stacklink**';

/** What the comment says for one run state: plain Markdown, any length (the adapter splits it). */
export function pullRequestCommentText(update: RunStateUpdate, publicUiUrl: string): string {
  const lines = [
    `${COMMENT_HEADING} · proposed run of stack \`${update.stack.name}\` on \`${update.commit.slice(0, 12)}\`: **${STATE_WORDS[update.state]}**`,
  ];
  const counts = planCounts(update);
  if (counts !== undefined) lines.push('', counts);
  // The link before the note: a note over Bitbucket's limit spills into replies, the link stays on top.
  lines.push('', `[Run details](${runUrl(publicUiUrl, update.stack.id, update.runId)})`);
  const note = update.note?.trim();
  if (note) lines.push('', note);
  return lines.join('\n');
}

/** "Plan: 2 to add, 1 to change, 0 to destroy." from the runner's summary, when it sent counts. */
export function planCounts(update: Pick<RunStateUpdate, 'summary'>): string | undefined {
  const summary = update.summary;
  if (summary === undefined) return undefined;
  const { add, change, destroy } = summary;
  if (add === undefined && change === undefined && destroy === undefined) return undefined;
  const n = (value: number | undefined) => (value === undefined ? '?' : String(value));
  return `Plan: **${n(add)}** to add, **${n(change)}** to change, **${n(destroy)}** to destroy.`;
}

/**
 * The optional pull-request comment of a proposed run (a stack setting, `prComments`): created once,
 * then edited in place as the run moves. Runs inside the reporter's per-run claim, after the commit
 * status, so it sees the run's states in order and never two at once; an update no newer than what
 * the comment shows changes nothing.
 *
 * Which comment belongs to the run is kept in the store (RunCommentRepositoryPort), not in Redis:
 * losing it would mean a second comment. An edit names the comment's version; when Bitbucket says it
 * changed meanwhile (409: someone edited it), the current version is read and the edit tried again.
 * A reporter that dies between creating the comment and saving its id finds it again when the
 * update is retried, by the run's link in its text, and edits it rather than posting a second.
 */
export function createReportPullRequestComment(deps: ReportPullRequestCommentDeps) {
  const conflictTries = deps.conflictTries ?? 3;
  return async (update: RunStateUpdate): Promise<CommentOutcome> => {
    if (update.runType !== 'proposed' || update.pullRequest === undefined) return 'skipped';
    const stack = await deps.stacks.get(update.stack.id);
    if (stack === undefined || !stack.prComments) return 'skipped';
    const target: PullRequestTarget = {
      integrationId: update.stack.integrationId,
      repository: update.stack.repository,
      pullRequestId: update.pullRequest.id,
    };
    const log = deps.logger.child({
      runId: update.runId,
      stackId: stack.id,
      pullRequestId: target.pullRequestId,
    });
    const text = pullRequestCommentText(update, deps.publicUiUrl);
    const kept = await deps.runComments.get(update.runId);
    const save = (comment: PostedComment) =>
      deps.runComments.save({
        runId: update.runId,
        commentId: comment.id,
        commentVersion: comment.version,
        runVersion: update.version,
      });

    let comment: PostedComment;
    if (kept === undefined) {
      // A reporter that died after creating the comment and before saving its id left it on the pull
      // request: our heading and the run's link, which no other run's comment carries, find it, and
      // it is edited instead of posting a second.
      const link = runUrl(deps.publicUiUrl, update.stack.id, update.runId);
      const earlier = (await deps.comments.recent(target)).find(
        (c) => c.text.startsWith(COMMENT_HEADING) && c.text.includes(link),
      );
      if (earlier === undefined) {
        const created = await deps.comments.create(target, text);
        await save(created);
        log.info('pull request comment created', { commentId: created.id, version: update.version });
        return 'created';
      }
      log.info('pull request comment found from an earlier attempt', { commentId: earlier.id });
      comment = { id: earlier.id, version: earlier.version };
    } else {
      if (kept.runVersion >= update.version) return 'skipped';
      comment = { id: kept.commentId, version: kept.commentVersion };
    }
    for (let attempt = 1; ; attempt++) {
      const edit = await deps.comments.update(target, comment, text);
      if (edit.outcome === 'updated') {
        await save(edit.comment);
        log.info('pull request comment updated', { commentId: comment.id, version: update.version });
        return 'updated';
      }
      const current = edit.outcome === 'gone' ? undefined : await deps.comments.get(target, comment.id);
      if (current === undefined) {
        // Deleted by someone on purpose (or with its pull request): not put back.
        log.info('pull request comment is gone; not recreated', { commentId: comment.id });
        return 'skipped';
      }
      if (attempt >= conflictTries) {
        throw new AppError(
          'REPORTER.COMMENT_CONFLICT',
          `comment ${comment.id} on pull request ${target.pullRequestId} keeps changing under the reporter`,
          { status: 409, retryable: true },
        );
      }
      comment = current;
    }
  };
}
