import type { ExchangeSpec, QueueSpec, Topology } from '@stacklink/bus';
import { VCS_EVENTS_EXCHANGE, vcsEventsQueue } from '@stacklink/events';
import { DELIVERIES_EXCHANGE, deliveryRecordsQueueSpec } from './deliveries';
import { INTEGRATION_EVENTS_EXCHANGE, integrationEventsQueue } from './integration-events';
import { RUNS_EXCHANGE, runsReadyQueueSpec, statusUpdatesQueueSpec, WORKER_RETRY } from './runs';

/** The exchanges of every contract, as each process asserts them (always durable topic exchanges). */
export const vcsEventsExchange: ExchangeSpec = { name: VCS_EVENTS_EXCHANGE, type: 'topic' };
export const runsExchange: ExchangeSpec = { name: RUNS_EXCHANGE, type: 'topic' };
export const integrationEventsExchange: ExchangeSpec = { name: INTEGRATION_EVENTS_EXCHANGE, type: 'topic' };
export const deliveriesExchange: ExchangeSpec = { name: DELIVERIES_EXCHANGE, type: 'topic' };

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
  exchanges: [vcsEventsExchange, runsExchange, deliveriesExchange],
  queues: [vcsEventsQueueSpec, statusUpdatesQueueSpec, runsReadyQueueSpec, deliveryRecordsQueueSpec],
};

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
