import type { Bus, ConsumerHandle, IncomingMessage, QueueSpec } from '@stacklink/bus';
import type { CanonicalEvent } from './canonical-event';
import { validateEvent } from './event-schema';
import { VCS_EVENTS_EXCHANGE } from './to-bus-message';

/**
 * A queue of one consuming service bound to `vcs.events` (docs/architecture.md §6): e.g.
 * `vcsEventsQueue('audit.events', ['bitbucket-dc.pull_request.*'])`. Add it to the service's topology.
 */
export function vcsEventsQueue(
  name: string,
  patterns: readonly string[] = ['#'],
  retry?: QueueSpec['retry'],
): QueueSpec {
  return {
    name,
    bindings: patterns.map((pattern) => ({ exchange: VCS_EVENTS_EXCHANGE, pattern })),
    ...(retry ? { retry } : {}),
  };
}

export type EventHandler = (event: CanonicalEvent, message: IncomingMessage) => Promise<void>;

/**
 * Typed consumption of canonical events: every message is validated in consumer mode (extra fields
 * from a newer producer are tolerated); one that does not match the schema is dead-lettered at once
 * (EVENT.INVALID is not retryable) instead of reaching the handler.
 */
export function subscribeEvents(bus: Bus, queue: string, handler: EventHandler): Promise<ConsumerHandle> {
  return bus.consume(queue, async (message) => {
    const event = validateEvent(message.body, { mode: 'consumer' });
    await handler(event, message);
  });
}
