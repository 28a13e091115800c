import type { ExchangeSpec, QueueSpec, Topology, WaitPolicy } from '@stacklink/bus';
import { VCS_EVENTS_EXCHANGE, vcsEventsQueue } from '@stacklink/events';
import { DELIVERIES_EXCHANGE, deliveryRecordsQueueSpec } from './deliveries';
import { INTEGRATION_EVENTS_EXCHANGE, integrationEventsQueue } from './integration-events';
import { reconcilerChangesQueueSpec, STACK_EVENTS_EXCHANGE } from './stack-events';
import { RUNS_EXCHANGE, runsReadyQueueSpec, statusUpdatesQueueSpec, WORKER_RETRY } from './runs';

/** The exchanges of every contract, as each process asserts them (always durable topic exchanges). */
export const vcsEventsExchange: ExchangeSpec = { name: VCS_EVENTS_EXCHANGE, type: 'topic' };
export const runsExchange: ExchangeSpec = { name: RUNS_EXCHANGE, type: 'topic' };
export const integrationEventsExchange: ExchangeSpec = { name: INTEGRATION_EVENTS_EXCHANGE, type: 'topic' };
export const deliveriesExchange: ExchangeSpec = { name: DELIVERIES_EXCHANGE, type: 'topic' };
export const stackEventsExchange: ExchangeSpec = { name: STACK_EVENTS_EXCHANGE, type: 'topic' };

/** The trigger worker's queue of canonical events: pushes and pull-request events. */
export const VCS_EVENTS_QUEUE = 'stack-trigger.vcs-events';
export const vcsEventsQueueSpec: QueueSpec = vcsEventsQueue(
  VCS_EVENTS_QUEUE,
  ['bitbucket-dc.push', 'bitbucket-dc.pull_request.*'],
  WORKER_RETRY,
);

/** Each gateway replica's own cache-invalidation feed; it lives only as long as the replica's connection. */
export const GATEWAY_INTEGRATION_EVENTS_QUEUE_PREFIX = 'webhook-gateway.integration-events.';
export function gatewayIntegrationEventsQueue(instance: string): string {
  return `${GATEWAY_INTEGRATION_EVENTS_QUEUE_PREFIX}${instance}`;
}

/**
 * What each process asserts on the broker. Every stack-trigger role asserts the whole stack-trigger
 * topology, so whichever starts first creates the queues the others publish into (a publish is
 * `mandatory`: it must never vanish for lack of a queue) — `runs.ready` included, which runners consume.
 */
export const stackTriggerTopology: Topology = {
  exchanges: [vcsEventsExchange, runsExchange, deliveriesExchange, stackEventsExchange],
  queues: [vcsEventsQueueSpec, statusUpdatesQueueSpec, runsReadyQueueSpec, deliveryRecordsQueueSpec],
};

/** Defaults of the Bitbucket-facing queues' wait policy (docs/architecture.md §9). */
export const BITBUCKET_WAIT: WaitPolicy = { delayMs: 5_000, horizonMs: 24 * 3_600_000 };

export interface StackTriggerQueueOptions {
  /**
   * Length of the retry schedule's unit: WORKER_RETRY is written in seconds (1, 5, 30, 120), and every
   * delay is multiplied by `retryTimeUnitMs / 1000`. 1000 in production; tests shrink it.
   */
  retryTimeUnitMs?: number;
  /** How messages that wait for a down Bitbucket host are delayed (its delay is scaled like the rest). */
  bitbucketWait?: WaitPolicy;
}

/**
 * The stack-trigger topology with the Bitbucket-facing queues (`vcs-events`: changed-files lookups,
 * `status-updates`: status posts) given a wait policy, and their schedule scaled to a time unit.
 * `runs.ready` keeps the runners' schedule.
 */
export function stackTriggerTopologyWith(options: StackTriggerQueueOptions): Topology {
  const scale = (options.retryTimeUnitMs ?? 1000) / 1000;
  const wait = options.bitbucketWait ?? BITBUCKET_WAIT;
  const waiting = (spec: QueueSpec): QueueSpec => ({
    ...spec,
    retry: {
      delaysMs: (spec.retry?.delaysMs ?? WORKER_RETRY.delaysMs).map((d) =>
        Math.max(1, Math.round(d * scale)),
      ),
      wait: { delayMs: Math.max(1, Math.round(wait.delayMs * scale)), horizonMs: wait.horizonMs },
    },
  });
  return {
    exchanges: stackTriggerTopology.exchanges,
    queues: [waiting(vcsEventsQueueSpec), waiting(statusUpdatesQueueSpec), runsReadyQueueSpec],
  };
}

/**
 * The reconciler (a stack-trigger role, docs/architecture.md §14): the stack-trigger topology, so it
 * may create runs as the trigger does, plus its replica's transient feed of stack and integration
 * changes.
 */
export function reconcilerTopology(instance: string, base: Topology = stackTriggerTopology): Topology {
  return {
    exchanges: [...base.exchanges, integrationEventsExchange],
    queues: [...base.queues, reconcilerChangesQueueSpec(instance)],
  };
}

/** A runner asserts only its own queue (and the exchange it binds to). */
export const runnerTopology: Topology = {
  exchanges: [runsExchange],
  queues: [runsReadyQueueSpec],
};

/** The integration service only publishes; consumers bind their own queues. */
export const integrationTopology: Topology = {
  exchanges: [integrationEventsExchange],
  queues: [],
};

/**
 * The gateway publishes events and delivery records (declaring the records queue, so no batch is
 * published into no queue before stack-trigger first starts), and binds its replica's
 * cache-invalidation queue to integration events.
 */
export function gatewayTopology(instance: string): Topology {
  return {
    exchanges: [vcsEventsExchange, integrationEventsExchange, deliveriesExchange],
    queues: [
      integrationEventsQueue(gatewayIntegrationEventsQueue(instance), { transient: true }),
      deliveryRecordsQueueSpec,
    ],
  };
}
