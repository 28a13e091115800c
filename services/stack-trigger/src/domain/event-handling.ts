import type { Logger } from '@stacklink/logger';
import type { Stack } from './model';
import type { PublishBatch } from './queue-run';

/** What the steps of handling one event share. */
export interface EventHandling {
  /** Carries the event id, delivery id and integration id on every line. */
  log: Logger;
  stacksById: ReadonlyMap<string, Stack>;
  /** The event's announcements, confirmed together before it is acked. */
  publishes: PublishBatch;
  /** Stacks that got a run from this event: their queues are dispatched at the end. */
  touchedStacks: Set<Stack>;
}
