import type { Topology } from '@stacklink/bus';
import { VCS_EVENTS_EXCHANGE } from '@stacklink/events';
import { DELIVERIES_EXCHANGE, DELIVERY_RECORDS_QUEUE } from './deliveries';
import { INTEGRATION_EVENTS_EXCHANGE } from './integration-events';
import { RECONCILER_CHANGES_QUEUE_PREFIX, STACK_EVENTS_EXCHANGE } from './stack-events';
import { RUNS_EXCHANGE, RUNS_READY_QUEUE, STATUS_UPDATES_QUEUE } from './runs';
import { GATEWAY_INTEGRATION_EVENTS_QUEUE_PREFIX, VCS_EVENTS_QUEUE } from './topologies';

export const SERVICES = ['webhook-gateway', 'integration', 'stack-trigger', 'runner'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** The one publisher of each exchange: the only service that may publish to it. */
export const EXCHANGE_OWNERS: Readonly<Record<string, ServiceName>> = {
  [VCS_EVENTS_EXCHANGE]: 'webhook-gateway',
  [RUNS_EXCHANGE]: 'stack-trigger',
  [INTEGRATION_EVENTS_EXCHANGE]: 'integration',
  [DELIVERIES_EXCHANGE]: 'webhook-gateway',
  [STACK_EVENTS_EXCHANGE]: 'stack-trigger',
};

export interface QueueOwnership {
  /** The queue's name, or the prefix of per-replica names when `prefix`. */
  name: string;
  prefix?: boolean;
  /** The service that consumes it. */
  consumer: ServiceName;
  /** Services that declare it: its consumer, and a publisher that must never publish into no queue. */
  declaredBy: readonly ServiceName[];
}

export const QUEUE_OWNERS: readonly QueueOwnership[] = [
  { name: VCS_EVENTS_QUEUE, consumer: 'stack-trigger', declaredBy: ['stack-trigger'] },
  { name: STATUS_UPDATES_QUEUE, consumer: 'stack-trigger', declaredBy: ['stack-trigger'] },
  { name: RUNS_READY_QUEUE, consumer: 'runner', declaredBy: ['stack-trigger', 'runner'] },
  {
    name: DELIVERY_RECORDS_QUEUE,
    consumer: 'stack-trigger',
    declaredBy: ['stack-trigger', 'webhook-gateway'],
  },
  {
    name: GATEWAY_INTEGRATION_EVENTS_QUEUE_PREFIX,
    prefix: true,
    consumer: 'webhook-gateway',
    declaredBy: ['webhook-gateway'],
  },
  {
    name: RECONCILER_CHANGES_QUEUE_PREFIX,
    prefix: true,
    consumer: 'stack-trigger',
    declaredBy: ['stack-trigger'],
  },
];

export function queueOwnership(queue: string): QueueOwnership | undefined {
  return QUEUE_OWNERS.find((q) => (q.prefix ? queue.startsWith(q.name) : queue === q.name));
}

/**
 * What is wrong with `service` asserting `topology`, one line per problem: an exchange it neither owns
 * nor binds one of its queues to (a consumer asserts what it binds to, as RabbitMQ needs it to exist), a
 * queue it may not declare, or a binding to an exchange no contract names.
 */
export function topologyProblems(service: ServiceName, topology: Topology): string[] {
  const problems: string[] = [];
  const boundExchanges = new Set(topology.queues.flatMap((q) => q.bindings.map((b) => b.exchange)));
  for (const exchange of topology.exchanges) {
    const owner = EXCHANGE_OWNERS[exchange.name];
    if (owner === undefined)
      problems.push(`${service} declares exchange ${exchange.name}, which no contract names`);
    else if (owner !== service && !boundExchanges.has(exchange.name))
      problems.push(
        `${service} declares exchange ${exchange.name} of ${owner} without binding a queue to it`,
      );
  }
  for (const queue of topology.queues) {
    const ownership = queueOwnership(queue.name);
    if (ownership === undefined)
      problems.push(`${service} declares queue ${queue.name}, which no contract names`);
    else if (!ownership.declaredBy.includes(service))
      problems.push(`${service} declares queue ${queue.name} of ${ownership.consumer}`);
    for (const binding of queue.bindings) {
      if (EXCHANGE_OWNERS[binding.exchange] === undefined)
        problems.push(`${service} binds ${queue.name} to ${binding.exchange}, which no contract names`);
    }
  }
  return problems;
}
