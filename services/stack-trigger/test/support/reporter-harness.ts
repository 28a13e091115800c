import { randomUUID } from 'node:crypto';
import { createBus, topologyNames, type Bus, type Topology } from '@stacklink/bus';
import { createSilentLogger } from '@stacklink/logger';
import { deleteNamespace, RABBITMQ_URL, REDIS_URL, uniqueNamespace } from '@stacklink/testing';
import { loadReporterConfig } from '../../src/config';
import type { RunningRole } from '@stacklink/http';
import { startReporterWorker } from '../../src/roles/reporter';
import {
  RUN_STATE_CHANGED,
  RUNS_EXCHANGE,
  STATUS_UPDATES_QUEUE,
  stackTriggerTopology,
  statusUpdatesQueueSpec,
  type RunMessage,
} from '@stacklink/contracts';
import { startCredentialsStandIn, type CredentialsEntry } from './integration-service-stand-in';

export const INTERNAL = 'internal-token-0123456789';

/** The contract's topology with the status-updates retries shortened to fit in a test (2 retries). */
export function shortRetryTopology(delaysMs = [100, 200]): Topology {
  return {
    ...stackTriggerTopology,
    queues: stackTriggerTopology.queues.map((q) =>
      q.name === STATUS_UPDATES_QUEUE ? { ...statusUpdatesQueueSpec, retry: { delaysMs } } : q,
    ),
  };
}

export interface ReporterHarness {
  namespace: string;
  bus: Bus;
  reporter: RunningRole;
  publish(message: RunMessage): Promise<void>;
  close(): Promise<void>;
}

/** A reporter started as `make up` starts it (its config from env), plus a bus to publish run updates. */
/** The reporter's public UI address in these tests: run links in statuses and comments start with it. */
export const REPORTER_PUBLIC_UI_URL = 'https://stacklink.example.com/ui';

export async function startReporterHarness(
  integrations: Record<string, CredentialsEntry>,
  env: Record<string, string> = {},
  topology: Topology = shortRetryTopology(),
): Promise<ReporterHarness> {
  const namespace = uniqueNamespace('reporter');
  const credentials = await startCredentialsStandIn(INTERNAL, integrations);
  const logger = createSilentLogger();
  const config = loadReporterConfig({
    PORT: '0',
    RABBITMQ_URL,
    REDIS_URL,
    // Stacks these tests name are in no store: no pull-request comments, statuses only.
    STORE_URL: 'sqlite::memory:',
    NAMESPACE: namespace,
    INTERNAL_TOKEN: INTERNAL,
    INTEGRATION_URL: credentials.url,
    PUBLIC_UI_URL: REPORTER_PUBLIC_UI_URL,
    REPORTER_RATE_PER_SECOND: '1000',
    REPORTER_RATE_BURST: '100',
    ...env,
  });
  const bus = createBus({ url: RABBITMQ_URL, logger, namespace, topology });
  await bus.start();
  const reporter = await startReporterWorker(config, { logger, topology });
  return {
    namespace,
    bus,
    reporter,
    publish: (message) =>
      bus.publish(RUNS_EXCHANGE, RUN_STATE_CHANGED, message, {
        messageId: `${message.runId}:${message.version}`,
      }),
    async close() {
      await reporter.stop();
      await bus.close();
      await credentials.close();
      await deleteNamespace({
        namespace,
        amqpUrl: RABBITMQ_URL,
        redisUrl: REDIS_URL,
        ...topologyNames(topology),
      });
    },
  };
}

/** A `run.state_changed` message as stack-trigger publishes it (run-messages.ts). */
export function runMessage(
  overrides: Partial<Omit<RunMessage, 'stack'>> & { commit: string; stack?: Partial<RunMessage['stack']> },
): RunMessage {
  const { stack, ...rest } = overrides;
  return {
    specVersion: 1,
    type: RUN_STATE_CHANGED,
    runId: randomUUID(),
    version: 1,
    state: 'QUEUED',
    runType: 'tracked',
    ref: 'refs/heads/main',
    trigger: { kind: 'push' },
    occurredAt: new Date().toISOString(),
    ...rest,
    stack: {
      id: 'stk-1',
      name: 'prod',
      integrationId: 'int-1',
      repository: { projectKey: 'PRJ', slug: 'infra' },
      projectRoot: '',
      ...stack,
    },
  };
}
