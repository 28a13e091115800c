import { runMain, startRole, type RunningRole } from '@stacklink/http';
import { createLogger, registerSecret, type Logger } from '@stacklink/logger';
import { createBitbucketCallLog } from '../adapters/bitbucket-call-log';
import { createBitbucketChangedFiles } from '../adapters/bitbucket-changed-files';
import { createBitbucketClients } from '../adapters/bitbucket-clients';
import { createBitbucketCommentAuthority } from '../adapters/bitbucket-comment-authority';
import { createBitbucketCommentReplies } from '../adapters/bitbucket-comment-replies';
import { createBitbucketConfirmation } from '../adapters/bitbucket-confirmation';
import { createBusRunEvents } from '../adapters/bus-run-events';
import { createIntegrationCredentials } from '../adapters/integration-credentials';
import { createPrometheusTriggerMetrics } from '../adapters/prometheus-trigger-metrics';
import { createRedisRunQueue } from '../adapters/redis-run-queue';
import { consumeVcsEvents } from '../consumers/vcs-events';
import { createHandleVcsEvent } from '../domain/handle-vcs-event';
import { createRecordDecision } from '../domain/record-decision';
import { rebuildRunQueue } from '../domain/rebuild-run-queue';
import { loadTriggerConfig, type TriggerConfig } from '../config';
import { bitbucketFacingTopology, bitbucketHostGate } from './bitbucket-host-health';
import { openConnections } from './open-connections';

/**
 * The `trigger` role (docs/architecture.md §1, §2): consumes `stack-trigger.vcs-events`, applies the trigger
 * rules, creates and queues runs and announces them on the `runs` exchange. Wiring only; startRole does
 * the rest: /healthz, /readyz and /metrics on PORT, graceful stop.
 */
export async function startTriggerWorker(
  config: TriggerConfig,
  options: { logger?: Logger } = {},
): Promise<RunningRole> {
  const logger =
    options.logger ?? createLogger({ service: 'stack-trigger-trigger', level: config.LOG_LEVEL });
  registerSecret(config.INTERNAL_TOKEN);
  const { store, redis, bus, connections } = await openConnections(config, logger, {
    // Auto-pipelining sends the commands of every event in flight in one write per tick instead of one
    // write each; ordering per connection is unchanged.
    redis: { enableAutoPipelining: true },
    bus: {
      prefetch: config.TRIGGER_CONCURRENCY,
      closeTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
      connectionName: 'stack-trigger trigger',
      topology: bitbucketFacingTopology(config),
    },
  });
  const queue = createRedisRunQueue({
    redis,
    namespace: config.NAMESPACE,
    leaseSeconds: config.RUN_LEASE_SECONDS,
  });
  const clients = createBitbucketClients(
    createIntegrationCredentials({
      integrationUrl: config.INTEGRATION_URL,
      internalToken: config.INTERNAL_TOKEN,
      ttlMs: config.CREDENTIALS_CACHE_SECONDS * 1000,
    }),
    {
      timeoutMs: config.BITBUCKET_TIMEOUT_MS,
      // A few quick tries in-process; a longer outage goes back to the bus's delayed retries.
      retry: { maxAttempts: 3, maxTotalMs: config.BITBUCKET_TIMEOUT_MS },
      maxPages: config.CHANGED_FILES_MAX_PAGES,
      maxItems: config.CHANGED_FILES_MAX_ITEMS,
      hostGate: bitbucketHostGate(config, redis, logger),
    },
  );
  const callLog = createBitbucketCallLog();
  const metrics = createPrometheusTriggerMetrics();
  const handleVcsEvent = createHandleVcsEvent({
    stacks: store.stacks,
    runs: store.runs,
    queue,
    changedFiles: callLog.changedFiles(createBitbucketChangedFiles(clients)),
    confirmation: callLog.confirmation(createBitbucketConfirmation(clients)),
    runEvents: createBusRunEvents(bus),
    replies: callLog.replies(createBitbucketCommentReplies(clients)),
    commentAuthority: callLog.commentAuthority(createBitbucketCommentAuthority(clients)),
    metrics,
    logger,
    maxRunsPerEvent: config.MAX_RUNS_PER_EVENT,
    seenHeads: store.seenHeads,
  });
  const ensureRunQueue = () => rebuildRunQueue({ runs: store.runs, queue, logger });
  return startRole({
    service: 'stack-trigger-trigger',
    listen: { port: config.PORT, host: config.HOST },
    logger,
    connections,
    prepare: ensureRunQueue,
    consumers: [
      () =>
        consumeVcsEvents(bus, {
          handleVcsEvent,
          ensureRunQueue,
          logger,
          // Every decision goes to the delivery history before the event is acked (docs/architecture.md §13).
          recordDecision: createRecordDecision({ history: store.deliveries, metrics }),
          callLog,
        }),
    ],
  });
}

if (require.main === module)
  runMain('trigger worker', loadTriggerConfig, (config) => startTriggerWorker(config));
