import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  createIntegrationApiClient,
  reconcilerChangesQueue,
  reconcilerTopology,
  subscribeReconcilerChanges,
} from '@stacklink/contracts';
import { isAppError } from '@stacklink/errors';
import { runMain, startRole, type RunningRole } from '@stacklink/http';
import { createLogger, registerSecret, type Logger } from '@stacklink/logger';
import { createBitbucketChangedFiles } from '../adapters/bitbucket-changed-files';
import { createBitbucketClients } from '../adapters/bitbucket-clients';
import { createBitbucketCommentAuthority } from '../adapters/bitbucket-comment-authority';
import { createBitbucketCommentReplies } from '../adapters/bitbucket-comment-replies';
import { createRateLimitedBitbucket } from '../adapters/bitbucket-commit-statuses';
import { createBitbucketConfirmation } from '../adapters/bitbucket-confirmation';
import { createBusRunEvents } from '../adapters/bus-run-events';
import { createIntegrationCredentials } from '../adapters/integration-credentials';
import { createPrometheusReconcilerMetrics } from '../adapters/prometheus-reconciler-metrics';
import { createPrometheusTriggerMetrics } from '../adapters/prometheus-trigger-metrics';
import { createRedisReconcilerLease } from '../adapters/redis-reconciler-lease';
import { createRedisRunQueue } from '../adapters/redis-run-queue';
import { loadReconcilerConfig, type ReconcilerConfig } from '../config';
import { createHandleVcsEvent } from '../domain/handle-vcs-event';
import { createReconcileWebhooks } from '../domain/reconcile-webhooks';
import { createReconcilerLoop } from '../domain/reconciler-loop';
import { createRecordDecision } from '../domain/record-decision';
import { createRecoverMissedEvents } from '../domain/recover-missed-events';
import { rebuildRunQueue } from '../domain/rebuild-run-queue';
import { bitbucketFacingTopology, bitbucketHostGate, bitbucketRateLimit } from './bitbucket-host-health';
import { openConnections } from './open-connections';

/**
 * The `reconciler` role (docs/architecture.md §14, docs/decisions/009): managed webhooks and missed-event
 * recovery. Every replica consumes its own feed of stack and integration changes; the one that holds
 * the Redis lease acts. Wiring only.
 */
export async function startReconciler(
  config: ReconcilerConfig,
  options: { logger?: Logger; instance?: string } = {},
): Promise<RunningRole> {
  const logger =
    options.logger ?? createLogger({ service: 'stack-trigger-reconciler', level: config.LOG_LEVEL });
  registerSecret(config.INTERNAL_TOKEN);
  const instance =
    options.instance ??
    `${hostname().replace(/[^A-Za-z0-9_.-]/g, '_')}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const { store, redis, bus, connections } = await openConnections(config, logger, {
    bus: {
      topology: reconcilerTopology(instance, bitbucketFacingTopology(config)),
      connectionName: `stack-trigger reconciler ${instance}`,
    },
  });
  const queue = createRedisRunQueue({
    redis,
    namespace: config.NAMESPACE,
    leaseSeconds: config.RUN_LEASE_SECONDS,
  });
  const credentials = createIntegrationCredentials({
    integrationUrl: config.INTEGRATION_URL,
    internalToken: config.INTERNAL_TOKEN,
    ttlMs: config.CREDENTIALS_CACHE_SECONDS * 1000,
  });
  // The setting is read fresh: a switch to managed acts at once, not after the credentials cache.
  const integrationApi = createIntegrationApiClient({
    baseUrl: config.INTEGRATION_URL,
    internalToken: config.INTERNAL_TOKEN,
  });
  const clients = createBitbucketClients(credentials, {
    timeoutMs: config.BITBUCKET_TIMEOUT_MS,
    retry: { maxAttempts: 3, maxTotalMs: config.BITBUCKET_TIMEOUT_MS },
    maxPages: config.CHANGED_FILES_MAX_PAGES,
    maxItems: config.CHANGED_FILES_MAX_ITEMS,
    hostGate: bitbucketHostGate(config, redis, logger),
  });
  // Recovery and webhook calls share the reporter's per-host rate limit (docs/architecture.md §14).
  const call = createRateLimitedBitbucket({ clients, ...bitbucketRateLimit(config, redis), logger });
  const lease = createRedisReconcilerLease({
    redis,
    namespace: config.NAMESPACE,
    holder: instance,
    leaseMs: config.RECONCILER_LEASE,
  });
  const metrics = createPrometheusReconcilerMetrics();
  const triggerMetrics = createPrometheusTriggerMetrics();
  const handleVcsEvent = createHandleVcsEvent({
    stacks: store.stacks,
    runs: store.runs,
    queue,
    changedFiles: createBitbucketChangedFiles(clients),
    confirmation: createBitbucketConfirmation(clients),
    runEvents: createBusRunEvents(bus),
    replies: createBitbucketCommentReplies(clients),
    commentAuthority: createBitbucketCommentAuthority(clients),
    metrics: triggerMetrics,
    logger,
    maxRunsPerEvent: config.MAX_RUNS_PER_EVENT,
    seenHeads: store.seenHeads,
  });
  const reconcileWebhooks = createReconcileWebhooks({
    stacks: store.stacks,
    health: store.webhookHealth,
    integrations: {
      async settings(integrationId) {
        try {
          const c = await integrationApi.credentials(integrationId);
          return c.webhooks ?? { mode: 'manual', scope: 'repository' };
        } catch (err) {
          if (isAppError(err) && err.code === 'INTEGRATION.NOT_FOUND') return undefined;
          throw err;
        }
      },
      async webhookSecret(integrationId) {
        return (await integrationApi.webhookSecrets(integrationId))?.secrets[0]?.value;
      },
    },
    lease,
    call,
    metrics,
    logger,
    publicWebhookBaseUrl: config.PUBLIC_WEBHOOK_BASE_URL,
  });
  const recoverMissedEvents = createRecoverMissedEvents({
    stacks: store.stacks,
    seenHeads: store.seenHeads,
    lease,
    call,
    handleVcsEvent,
    recordDecision: createRecordDecision({ history: store.deliveries, metrics: triggerMetrics }),
    metrics,
    logger,
  });
  const loop = createReconcilerLoop({
    lease,
    stacks: store.stacks,
    reconcileWebhooks,
    recoverMissedEvents,
    ensureRunQueue: () => rebuildRunQueue({ runs: store.runs, queue, logger }),
    metrics,
    logger,
    leaseMs: config.RECONCILER_LEASE,
    webhookIntervalMs: config.WEBHOOK_RECONCILE_INTERVAL,
    recoveryIntervalMs: config.RECOVERY_INTERVAL,
  });
  return startRole({
    service: 'stack-trigger-reconciler',
    listen: { port: config.PORT, host: config.HOST },
    logger,
    connections,
    consumers: [
      () =>
        subscribeReconcilerChanges(bus, reconcilerChangesQueue(instance), async (change) => {
          loop.changed(change.kind === 'stack' ? change.event.integrationId : change.integrationId);
        }),
      async () => {
        loop.start();
        return { cancel: () => loop.stop() };
      },
    ],
  });
}

if (require.main === module) runMain('reconciler', loadReconcilerConfig, (config) => startReconciler(config));
