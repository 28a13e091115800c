import { getOrCreateCounter, processRegistry } from '@stacklink/http';
import type { ReporterMetricsPort } from '../domain/reporter-ports';

export function createPrometheusReporterMetrics(registry = processRegistry()): ReporterMetricsPort & {
  rateLimited(host: string): void;
  codeInsights(outcome: 'reported' | 'unsupported'): void;
} {
  const posted = getOrCreateCounter(registry, {
    name: 'stacklink_commit_statuses_posted_total',
    help: 'Commit statuses posted to Bitbucket, by build state and API (repository or legacy)',
    labelNames: ['state', 'api'] as const,
  });
  const stale = getOrCreateCounter(registry, {
    name: 'stacklink_commit_status_updates_stale_total',
    help: 'Run updates dropped because a newer version of the run was already posted',
  });
  const rateLimited = getOrCreateCounter(registry, {
    name: 'stacklink_bitbucket_rate_limited_total',
    help: '429 answers from Bitbucket to the reporter, by host',
    labelNames: ['host'] as const,
  });
  const insights = getOrCreateCounter(registry, {
    name: 'stacklink_code_insights_reports_total',
    help: 'Code Insights reports of runs: reported, or skipped because the host has no Code Insights',
    labelNames: ['outcome'] as const,
  });
  return {
    codeInsights: (outcome) => insights.inc({ outcome }),
    posted: (state, api) => posted.inc({ state, api }),
    stale: () => stale.inc(),
    rateLimited: (host) => rateLimited.inc({ host }),
  };
}
