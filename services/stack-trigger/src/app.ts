import type { Express } from 'express';
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
  DeliveryHistoryPort,
  IntegrationsPort,
  RedeliveryPort,
  RunEventsPort,
  RunQueuePort,
  RunRepositoryPort,
  StackRepositoryPort,
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
  const reportRunState = createReportRunState(deps);
  const runStateApi = createRunStateRouter({ reportRunState });
  const runLeaseApi = createRunLeaseRouter({ renewRunLease: createRenewRunLease(deps) });
  const stacksApi = createStacksRouter({ stacks, triggerManualRun });
  const runsApi = createRunsRouter({ runs: deps.runs });
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
  const internalApi = createInternalRouter({ stacks });
  const deadLettersApi = deps.deadLetters ? createDeadLettersRouter(deps.deadLetters) : undefined;
  const publicRouters = [
    runStateApi,
    runLeaseApi,
    stacksApi,
    runsApi,
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
      app.use(
        '/api/v1',
        bearerAuth({ admin: deps.adminToken, runner: deps.runnerTokens ?? [] }),
        ...jsonBody(),
      );
      app.use('/api/v1', requireBearerRole('admin', 'runner'), runStateApi.router, runLeaseApi.router);
      // Every route below, and any added later, is the admin's alone.
      app.use('/api/v1', requireBearerRole('admin'));
      app.use('/api/v1', stacksApi.router);
      app.use('/api/v1', runsApi.router);
      if (deliveriesApi) app.use('/api/v1', deliveriesApi.router);
      app.use('/internal/v1', bearerAuth(deps.internalToken), ...jsonBody(), internalApi.router);
      if (deadLettersApi) app.use('/internal/v1', deadLettersApi.router);
    },
  );
}
