import type { Topology } from '@stacklink/bus';
import { runMain, startRole, type RunningRole } from '@stacklink/http';
import { createLogger, registerSecret, type Logger } from '@stacklink/logger';
import { createBitbucketClients } from '../adapters/bitbucket-clients';
import {
  createBitbucketCommitStatuses,
  createRateLimitedBitbucket,
} from '../adapters/bitbucket-commit-statuses';
import { createBitbucketCodeInsights } from '../adapters/bitbucket-code-insights';
import { createBitbucketPullRequestComments } from '../adapters/bitbucket-pull-request-comments';
import { createIntegrationCredentials } from '../adapters/integration-credentials';
import { createPrometheusReporterMetrics } from '../adapters/prometheus-reporter-metrics';
import { createRedisRunStatusLedger } from '../adapters/redis-run-status-ledger';
import { createStatusUpdatesConsumer } from '../consumers/status-updates';
import { createReportCodeInsights } from '../domain/report-code-insights';
import { createReportCommitStatus } from '../domain/report-commit-status';
import { createReportPullRequestComment } from '../domain/report-pull-request-comment';
import { loadReporterConfig, type ReporterConfig } from '../config';
import { bitbucketFacingTopology, bitbucketHostGate, bitbucketRateLimit } from './bitbucket-host-health';
import { openConnections } from './open-connections';
import { STATUS_UPDATES_QUEUE } from '@stacklink/contracts';

export interface ReporterOptions {
  logger?: Logger;
  /** Tests shorten the retry delays of the status-updates queue; production uses the contract's. */
  topology?: Topology;
}

/**
 * The `reporter` role (docs/architecture.md §1, §8): consumes `stack-trigger.status-updates` and posts commit
 * statuses. Wiring only; startRole does the rest: /healthz, /readyz and /metrics on PORT, graceful stop.
 */
export async function startReporterWorker(
  config: ReporterConfig,
  options: ReporterOptions = {},
): Promise<RunningRole> {
  const logger =
    options.logger ?? createLogger({ service: 'stack-trigger-reporter', level: config.LOG_LEVEL });
  registerSecret(config.INTERNAL_TOKEN);
  // The store holds the stacks' prComments setting and which comment belongs to which run.
  const { store, redis, bus, connections } = await openConnections(config, logger, {
    bus: {
      topology: options.topology ?? bitbucketFacingTopology(config),
      prefetch: config.REPORTER_CONCURRENCY,
      connectionName: 'stack-trigger-reporter',
    },
  });
  const metrics = createPrometheusReporterMetrics();
  const credentials = createIntegrationCredentials({
    integrationUrl: config.INTEGRATION_URL,
    internalToken: config.INTERNAL_TOKEN,
  });
  // The client's own retries are off: 5xx and timeouts go back to the bus's retry queues
  // (docs/architecture.md §8).
  const clients = createBitbucketClients(credentials, {
    timeoutMs: config.BITBUCKET_TIMEOUT_MS,
    retry: { maxAttempts: 1 },
    hostGate: bitbucketHostGate(config, redis, logger),
  });
  const bitbucket = {
    clients,
    ...bitbucketRateLimit(config, redis),
    logger,
    onRateLimited: (host: string) => metrics.rateLimited(host),
  };
  // Statuses and comments share each Bitbucket host's rate limit.
  const call = createRateLimitedBitbucket(bitbucket);
  const statuses = createBitbucketCommitStatuses({ ...bitbucket, call });
  const reportCommitStatus = createReportCommitStatus({
    ledger: createRedisRunStatusLedger({
      redis,
      namespace: config.NAMESPACE,
      claimTtlMs: config.REPORTER_CLAIM_TTL_MS,
    }),
    statuses,
    metrics,
    logger,
    publicUiUrl: config.PUBLIC_UI_URL,
    ...(config.CODE_INSIGHTS_ENABLED
      ? {
          codeInsights: createReportCodeInsights({
            insights: createBitbucketCodeInsights({
              clients,
              call,
              redis,
              namespace: config.NAMESPACE,
              recheckSeconds: config.CODE_INSIGHTS_RECHECK_SECONDS,
              logger,
            }),
            logger,
            publicUiUrl: config.PUBLIC_UI_URL,
            count: (outcome) => metrics.codeInsights(outcome),
          }),
        }
      : {}),
    pullRequestComment: createReportPullRequestComment({
      stacks: store.stacks,
      runComments: store.runComments,
      comments: createBitbucketPullRequestComments(call),
      logger,
      publicUiUrl: config.PUBLIC_UI_URL,
    }),
  });
  return startRole({
    service: 'stack-trigger-reporter',
    listen: { port: config.PORT, host: config.HOST },
    logger,
    connections,
    consumers: [
      () =>
        bus.consume(STATUS_UPDATES_QUEUE, createStatusUpdatesConsumer(reportCommitStatus), {
          prefetch: config.REPORTER_CONCURRENCY,
        }),
    ],
  });
}

if (require.main === module) {
  runMain('reporter worker', loadReporterConfig, (config) => startReporterWorker(config));
}
