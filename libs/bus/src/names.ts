import type { QueueSpec, Topology } from './types';

export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [1000, 5000, 30000];

/** Maps logical names (what callers use) to physical ones (what RabbitMQ sees) and back. */
export interface Namer {
  physical(name: string): string;
  logical(physicalName: string): string;
}

export function createNamer(namespace: string | undefined): Namer {
  const prefix = namespace ? `${namespace}.` : '';
  return {
    // '' is the AMQP default exchange, which cannot be renamed.
    physical: (name) => (name === '' ? '' : `${prefix}${name}`),
    logical: (physicalName) =>
      prefix && physicalName.startsWith(prefix) ? physicalName.slice(prefix.length) : physicalName,
  };
}

export function deadLetterQueueName(queue: string): string {
  return `${queue}.dlq`;
}

/**
 * Named by delay rather than by step: the TTL is fixed when a queue is declared, so changing a retry
 * schedule then declares new queues instead of failing start with PRECONDITION_FAILED on the old ones
 * (which drain into the work queue by themselves).
 */
export function retryQueueName(queue: string, delayMs: number): string {
  return `${queue}.retry.${delayMs}ms`;
}

export function retryDelaysOf(spec: QueueSpec): readonly number[] {
  return spec.retry?.delaysMs ?? DEFAULT_RETRY_DELAYS_MS;
}

/** Every delay queue a spec needs: its retry delays and, when it has a wait policy, the wait delay. */
export function delayQueuesOf(spec: QueueSpec): readonly number[] {
  const wait = spec.retry?.wait?.delayMs;
  const delays = retryDelaysOf(spec);
  return [...new Set(wait === undefined ? delays : [...delays, wait])];
}

/** Every logical exchange and queue name a topology declares, e.g. for test clean-up. */
export function topologyNames(topology: Topology): { exchanges: string[]; queues: string[] } {
  const queues = new Set<string>();
  for (const spec of topology.queues) {
    queues.add(spec.name);
    queues.add(deadLetterQueueName(spec.name));
    for (const delay of delayQueuesOf(spec)) queues.add(retryQueueName(spec.name, delay));
  }
  return { exchanges: topology.exchanges.map((e) => e.name), queues: [...queues] };
}
