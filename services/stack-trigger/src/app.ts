import type { Express } from 'express';
import { RUN_LOG_LIMITS } from '@stacklink/contracts';
import {
  bearerAuth,
  createHttpApp,
  jsonBody,
  openApiDocument,
  requireBearerRole,
  serveOpenApi,
  type ReadinessCheck,
} from '@stacklink/http';
import type { Logger } from '@stacklink/logger';
import { createManageStacks } from './domain/manage-stacks';
import type {
  Clock,
  DeliveryHistoryPort,
  IntegrationsPort,
  RedeliveryPort,
  RunEventsPort,
  RunActivityPort,
  RunLogRepositoryPort,
  RunQueuePort,
  RunRepositoryPort,
  StackEventsPort,
  StackRepositoryPort,
  WebhookHealthRepositoryPort,
  TriggerMetricsPort,
} from './domain/ports';
import type { DeadLettersPort } from './dead-letter-queues';
import { createRenewRunLease } from './domain/renew-run-lease';
import { createReportRunState } from './domain/report-run-state';
import { createTriggerManualRun } from './domain/trigger-manual-run';
import { createListDeliveries } from './domain/list-deliveries';
import { createRedeliver } from './domain/redeliver';
import { createShowDelivery } from './domain/show-delivery';
import { createDeadLettersRouter } from './http/dead-letters-router';
import { createDeliveriesRouter } from './http/deliveries-router';
import { createInternalRouter } from './http/internal-router';
import { createRunLeaseRouter } from './http/run-lease-router';
import { createRunStateRouter } from './http/run-state-router';
import { createRunsRouter } from './http/runs-router';
import { createStacksRouter } from './http/stacks-router';
import { createAppendRunLog } from './domain/append-run-log';
import { createFollowRunLog } from './domain/follow-run-log';
import { createListRuns } from './domain/list-runs';
import { createReadRunLog } from './domain/read-run-log';
import { createShowRun, type IntegrationHostsPort } from './domain/show-run';
import type { EventStreams } from './http/event-stream';
import { createRunLogAppendRouter, createRunLogReadRouter } from './http/run-logs-router';

export interface AppDeps {
  adminToken: string;
  /** RUNNER_TOKENS: accepted on the run state and lease routes only (docs/architecture.md §12). */
  runnerTokens?: readonly string[];
  internalToken: string;
  logger: Logger;
  stacks: StackRepositoryPort;
  runs: RunRepositoryPort;
  queue: RunQueuePort;
  integrations: IntegrationsPort;
  runEvents: RunEventsPort;
  metrics: TriggerMetricsPort;
  readiness?: ReadinessCheck[];
  /** The bus, for `/internal/v1/dead-letters`; the routes are absent without it. */
  deadLetters?: DeadLettersPort;
  /** The delivery history (docs/architecture.md §13); `/api/v1/deliveries` is absent without it. */
  deliveries?: { history: DeliveryHistoryPort; redelivery: RedeliveryPort; newEventId: () => string };
  /** Run logs (docs/architecture.md §4, "Run logs"); the log routes are absent without them. */
  runLogs?: RunLogsDeps;
  /** Stack changes for the reconciler (docs/architecture.md §14). */
  stackEvents?: StackEventsPort;
  /** Each scope's webhook health; `GET /internal/v1/webhooks` is absent without it. */
  webhookHealth?: WebhookHealthRepositoryPort;
  /** Integrations' user-facing hosts, for the links of `GET /runs/{id}`; no links without it. */
  integrationHosts?: IntegrationHostsPort;
}

export interface RunLogsDeps {
  logs: RunLogRepositoryPort;
  activity: RunActivityPort;
  /** Open event streams, which a stopping process closes. */
  streams: EventStreams;
  /** RUN_LOG_MAX_BYTES, RUN_LOG_GRACE_SECONDS, RUN_LOG_STREAM_POLL_MS, RUN_LOG_STREAM_HEARTBEAT_MS. */
  maxBytes: number;
  graceSeconds: number;
  pollMs: number;
  heartbeatMs: number;
  /** When the grace period after a run's end is over; the system clock by default. */
  clock?: Clock;
}

const INFO = {
  title: 'Stacklink stack-trigger API',
  version: '1',
  description: 'Stacks, runs, runner reports and the delivery history (docs/architecture.md §4, §13).',
};

/** The stack-trigger API (docs/architecture.md §4), built without listening so tests start it on port 0. */
export function createApp(deps: AppDeps): Express {
  const stacks = createManageStacks(deps);
  const triggerManualRun = createTriggerManualRun(deps);
  const reportRunState = createReportRunState({
    ...deps,
    ...(deps.runLogs ? { activity: deps.runLogs.activity } : {}),
  });
  const runLogs = deps.runLogs;
  const runStateApi = createRunStateRouter({ reportRunState });
  const runLeaseApi = createRunLeaseRouter({ renewRunLease: createRenewRunLease(deps) });
  const runLogAppendApi = runLogs
    ? createRunLogAppendRouter({ appendRunLog: createAppendRunLog({ ...deps, ...runLogs }) })
    : undefined;
  const stacksApi = createStacksRouter({ stacks, triggerManualRun });
  const runsApi = createRunsRouter({
    listRuns: createListRuns(deps),
    showRun: createShowRun({
      ...deps,
      ...(deps.integrationHosts ? { hosts: deps.integrationHosts } : {}),
    }),
  });
  const runLogReadApi = runLogs
    ? createRunLogReadRouter({
        runs: deps.runs,
        readRunLog: createReadRunLog({ runs: deps.runs, logs: runLogs.logs }),
        followRunLog: createFollowRunLog({ ...deps, ...runLogs }),
        streams: runLogs.streams,
        heartbeatMs: runLogs.heartbeatMs,
      })
    : undefined;
  const deliveriesApi = deps.deliveries
    ? createDeliveriesRouter({
        listDeliveries: createListDeliveries({ history: deps.deliveries.history }),
        showDelivery: createShowDelivery({
          history: deps.deliveries.history,
          runs: deps.runs,
          stacks: deps.stacks,
        }),
        redeliver: createRedeliver(deps.deliveries),
      })
    : undefined;
  const internalApi = createInternalRouter({
    stacks,
    ...(deps.webhookHealth === undefined ? {} : { webhookHealth: deps.webhookHealth }),
  });
  const deadLettersApi = deps.deadLetters ? createDeadLettersRouter(deps.deadLetters) : undefined;
  const publicRouters = [
    runStateApi,
    runLeaseApi,
    ...(runLogAppendApi ? [runLogAppendApi] : []),
    stacksApi,
    runsApi,
    ...(runLogReadApi ? [runLogReadApi] : []),
    ...(deliveriesApi ? [deliveriesApi] : []),
  ];
  const internalRouters = [internalApi, ...(deadLettersApi ? [deadLettersApi] : [])];
  // Each API describes itself (docs/architecture.md §16) from the routers mounted below.
  serveOpenApi(runsApi, ['admin'], () =>
    openApiDocument(INFO, [{ prefix: '/api/v1', routers: publicRouters }]),
  );
  serveOpenApi(internalApi, ['internal'], () =>
    openApiDocument({ ...INFO, title: 'Stacklink stack-trigger internal API' }, [
      { prefix: '/internal/v1', routers: internalRouters },
    ]),
  );
  return createHttpApp(
    { service: 'stack-trigger', logger: deps.logger, readiness: deps.readiness ?? [] },
    (app) => {
      // ADMIN_TOKEN everywhere; a runner token on the run state and lease routes only (a 403 elsewhere).
      app.use('/api/v1', bearerAuth({ admin: deps.adminToken, runner: deps.runnerTokens ?? [] }));
      // Log chunks come in bodies larger than the other routes take (RUN_LOG_LIMITS.maxRequestBytes).
      if (runLogAppendApi)
        app.use(
          '/api/v1/runs/:id/logs',
          requireBearerRole('admin', 'runner'),
          ...jsonBody(`${RUN_LOG_LIMITS.maxRequestBytes}b`),
        );
      app.use('/api/v1', ...jsonBody());
      app.use('/api/v1', requireBearerRole('admin', 'runner'), runStateApi.router, runLeaseApi.router);
      if (runLogAppendApi) app.use('/api/v1', requireBearerRole('admin', 'runner'), runLogAppendApi.router);
      // Every route below, and any added later, is the admin's alone.
      app.use('/api/v1', requireBearerRole('admin'));
      app.use('/api/v1', stacksApi.router);
      app.use('/api/v1', runsApi.router);
      if (runLogReadApi) app.use('/api/v1', runLogReadApi.router);
      if (deliveriesApi) app.use('/api/v1', deliveriesApi.router);
      app.use('/internal/v1', bearerAuth(deps.internalToken), ...jsonBody(), internalApi.router);
      if (deadLettersApi) app.use('/internal/v1', deadLettersApi.router);
    },
  );
}
