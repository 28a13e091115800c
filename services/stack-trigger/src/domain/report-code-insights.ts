import type { Logger } from '@stacklink/logger';
import { annotationPages, REPORTED_STATES, toInsightReport } from './insight-report';
import type { RunStateUpdate } from './report-commit-status';
import type { CodeInsightsPort } from './reporter-ports';

export interface ReportCodeInsightsDeps {
  insights: CodeInsightsPort;
  logger: Logger;
  publicUiUrl: string;
  /** Counts each report written or skipped (stacklink_code_insights_reports_total). */
  count?: (outcome: Exclude<InsightsOutcome, 'skipped'>) => void;
}

export type InsightsOutcome = 'reported' | 'skipped' | 'unsupported';

/**
 * The run's Code Insights report on its commit (docs/architecture.md §8): a report without a verdict
 * while the run runs, PASS or FAIL once it ended, and the runner's annotations in place of the
 * previous set (deleted, then posted in pages). Runs inside the reporter's per-run claim, after the
 * commit status, so only the latest state of a run reaches Bitbucket; Bitbucket's errors go back to
 * the bus like the status's. A server without Code Insights is skipped (the adapter remembers it).
 */
export function createReportCodeInsights(deps: ReportCodeInsightsDeps) {
  return async (update: RunStateUpdate): Promise<InsightsOutcome> => {
    if (!REPORTED_STATES.includes(update.state)) return 'skipped';
    const target = {
      integrationId: update.stack.integrationId,
      repository: update.stack.repository,
      commit: update.commit,
    };
    const report = toInsightReport(update, deps.publicUiUrl);
    if (!(await deps.insights.putReport(target, report))) {
      deps.count?.('unsupported');
      return 'unsupported';
    }
    // The previous run's findings (or this run's from an earlier delivery) go first: the set is replaced.
    await deps.insights.deleteAnnotations(target, report.key);
    const annotations = update.summary?.annotations ?? [];
    for (const page of annotationPages(annotations)) {
      await deps.insights.postAnnotations(target, report.key, page);
    }
    deps.count?.('reported');
    deps.logger.info('code insights report posted', {
      runId: update.runId,
      stackId: update.stack.id,
      version: update.version,
      result: report.result ?? 'none',
      annotations: annotations.length,
    });
    return 'reported';
  };
}
