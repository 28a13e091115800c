import type { RunMessage, RunPullRequest } from '@stacklink/contracts';
import { mayHaveLanded } from '@stacklink/bitbucket';
import { AppError } from '@stacklink/errors';
import type { Logger } from '@stacklink/logger';
import { toCommitStatus } from './commit-status';
import type { CommitStatusesPort, ReporterMetricsPort, RunStatusLedgerPort } from './reporter-ports';

/** What the reporter reads of a `run.state_changed` message (RunMessage of @stacklink/contracts). */
export type RunStateUpdate = Pick<
  RunMessage,
  | 'runId'
  | 'version'
  | 'state'
  | 'runType'
  | 'commit'
  | 'ref'
  | 'note'
  | 'occurredAt'
  | 'startedAt'
  | 'summary'
> & {
  /** Proposed runs of a pull request carry it. */
  pullRequest?: Pick<RunPullRequest, 'id'>;
  stack: Pick<RunMessage['stack'], 'id' | 'name' | 'integrationId' | 'repository'>;
};

export interface ReportCommitStatusDeps {
  ledger: RunStatusLedgerPort;
  statuses: CommitStatusesPort;
  metrics: ReporterMetricsPort;
  logger: Logger;
  publicUiUrl: string;
  /** How long a replica waits for another one posting the same run before handing back to the bus. */
  claimWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /**
   * The run's pull-request comment (createReportPullRequestComment), kept after the status under the
   * same claim, so it too only ever moves forward.
   */
  pullRequestComment?: (update: RunStateUpdate) => Promise<unknown>;
  /** The run's Code Insights report (createReportCodeInsights), under the same claim, after the status. */
  codeInsights?: (update: RunStateUpdate) => Promise<unknown>;
}

export type ReportOutcome = 'posted' | 'stale';

/**
 * Posts the commit status of one run state change (docs/architecture.md §8), unless a newer version of the
 * run was already posted. Errors from Bitbucket go back to the caller unchanged: a retryable one is
 * retried by the bus with backoff, anything else is parked in the dead-letter queue.
 */
export function createReportCommitStatus(deps: ReportCommitStatusDeps) {
  const claimWaitMs = deps.claimWaitMs ?? 5000;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  async function claim(update: RunStateUpdate): Promise<string | undefined> {
    const deadline = Date.now() + claimWaitMs;
    for (let pause = 10; ; pause = Math.min(pause * 2, 250)) {
      const claimed = await deps.ledger.claim(update.runId, update.version);
      if (claimed.outcome === 'claimed') return claimed.token;
      if (claimed.outcome === 'stale') {
        deps.metrics.stale();
        deps.logger.info('stale run update dropped', {
          runId: update.runId,
          version: update.version,
          posted: claimed.posted,
        });
        return undefined;
      }
      if (Date.now() + pause > deadline) {
        throw new AppError('REPORTER.RUN_BUSY', `another reporter is posting run ${update.runId}`, {
          status: 503,
          retryable: true,
        });
      }
      await sleep(pause);
    }
  }

  /**
   * Renews the claim every third of its life while the calls below run, so a slow Bitbucket cannot let
   * it lapse under a live replica (another one could then post a newer state before ours lands). If a
   * renewal finds the claim gone (the process stalled past it), the next step is not taken.
   */
  function holdClaim(runId: string, token: string) {
    let lost = false;
    const timer = setInterval(
      () => {
        deps.ledger.renew(runId, token).then(
          (held) => {
            if (!held) lost = true;
          },
          (err: unknown) => deps.logger.warn('reporter claim not renewed', { runId, err }),
        );
      },
      Math.max(1, Math.floor(deps.ledger.claimTtlMs / 3)),
    );
    timer.unref();
    return {
      /** Throws a retryable error once the claim is known lost: the bus brings the update back. */
      check() {
        if (!lost) return;
        throw new AppError('REPORTER.CLAIM_LOST', `the claim on run ${runId} lapsed while posting`, {
          status: 503,
          retryable: true,
        });
      },
      stop: () => clearInterval(timer),
    };
  }

  return async (update: RunStateUpdate): Promise<ReportOutcome> => {
    const token = await claim(update);
    if (token === undefined) return 'stale';
    const held = holdClaim(update.runId, token);
    let statusLanded = false;
    try {
      const cancelledSupported =
        update.state === 'CANCELED'
          ? await deps.statuses.supportsCancelled(update.stack.integrationId)
          : true;
      const status = toCommitStatus(update, { publicUiUrl: deps.publicUiUrl, cancelledSupported });
      held.check();
      const posted = await deps.statuses.post(
        {
          integrationId: update.stack.integrationId,
          repository: update.stack.repository,
          commit: update.commit,
        },
        status,
      );
      statusLanded = true;
      held.check();
      if (deps.codeInsights) await deps.codeInsights(update);
      held.check();
      if (deps.pullRequestComment) await deps.pullRequestComment(update);
      held.stop();
      await deps.ledger.commit(update.runId, update.version, token);
      deps.metrics.posted(posted.state, posted.api);
      deps.logger.info('commit status posted', {
        runId: update.runId,
        stackId: update.stack.id,
        version: update.version,
        state: posted.state,
        api: posted.api,
      });
      return 'posted';
    } catch (err) {
      held.stop();
      if (mayHaveLanded(err)) {
        // A write that timed out may still be applied by Bitbucket, after anything sent now: the claim is
        // left to lapse, so a newer state of the run is posted only once this one can no longer land.
        deps.logger.warn('Bitbucket did not answer a write; the run waits for its claim to lapse', {
          runId: update.runId,
          version: update.version,
          claimTtlMs: deps.ledger.claimTtlMs,
        });
      } else {
        await deps.ledger.release(update.runId, token, statusLanded).catch(() => undefined);
      }
      throw err;
    }
  };
}
