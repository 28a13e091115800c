import type { Logger } from '@stacklink/logger';
import type { CommentRepliesPort, RunEventsPort } from '../domain/ports';

/**
 * Stand-ins until libs/bus and the Bitbucket client land: they log what would be published or posted.
 * main.ts wires them; the `runs` exchange publisher and the PR comment client replace them.
 */
export function createLoggingRunEvents(logger: Logger): RunEventsPort {
  return {
    async publishStateChanged(run) {
      logger.debug('run.state_changed', {
        runId: run.id,
        stackId: run.stackId,
        state: run.state,
        version: run.version,
      });
    },
    async publishRunReady(run) {
      logger.debug('run.ready', { runId: run.id, stackId: run.stackId, type: run.type });
    },
  };
}

export function createLoggingCommentReplies(logger: Logger): CommentRepliesPort {
  return {
    async reply(target) {
      logger.info('pull request reply', {
        integrationId: target.integrationId,
        pullRequestId: target.pullRequestId,
      });
    },
  };
}
