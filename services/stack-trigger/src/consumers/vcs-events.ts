import type { Bus, ConsumerHandle } from '@stacklink/bus';
import { redeliveryOf, VCS_EVENTS_QUEUE } from '@stacklink/contracts';
import { subscribeEvents } from '@stacklink/events';
import { getOrCreateCounter, processRegistry } from '@stacklink/http';
import type { Logger } from '@stacklink/logger';
import type { CanonicalEvent } from '../domain/canonical-event';
import type { HandleVcsEventResult } from '../domain/handle-vcs-event';
import type { RecordDecisionContext } from '../domain/record-decision';

export interface VcsEventsConsumerDeps {
  /** createHandleVcsEvent(...): idempotent, so a redelivered event creates nothing new. */
  handleVcsEvent: (event: CanonicalEvent) => Promise<HandleVcsEventResult>;
  /** Runs before every event: rebuilds the Redis run queue from the store when Redis lost it. */
  ensureRunQueue: () => Promise<unknown>;
  logger: Logger;
  /**
   * createRecordDecision(...): the decision goes to the delivery history before the ack (docs/architecture.md
   * §13); a failure to store it fails the event, which is retried.
   */
  recordDecision?: (
    event: CanonicalEvent,
    result: HandleVcsEventResult,
    context: RecordDecisionContext,
  ) => Promise<unknown>;
  /** Runs each handling in its own context, so the Bitbucket calls it made are known. */
  callLog?: { run<T>(work: () => Promise<T>): Promise<{ result: T; calls: string[] }> };
}

/**
 * `stack-trigger.vcs-events`: validated canonical events (libs/events dead-letters invalid ones) go to
 * the trigger rules. Returning acks; a retryable error (Bitbucket or the integration service down, the
 * broker refusing a publish) is retried by the bus with backoff, anything else is dead-lettered.
 */
export function consumeVcsEvents(bus: Bus, deps: VcsEventsConsumerDeps): Promise<ConsumerHandle> {
  const handled = getOrCreateCounter(processRegistry(), {
    name: 'stacklink_trigger_events_total',
    help: 'Canonical events the trigger worker handled, by type and outcome',
    labelNames: ['type', 'outcome'] as const,
  });
  return subscribeEvents(bus, VCS_EVENTS_QUEUE, async (event, message) => {
    if (message.attempt > 1 || message.redelivered) {
      deps.logger.info('event delivered again', {
        eventId: event.id,
        attempt: message.attempt,
        redelivered: message.redelivered,
      });
    }
    try {
      await deps.ensureRunQueue();
      const { result, calls } = deps.callLog
        ? await deps.callLog.run(() => deps.handleVcsEvent(event))
        : { result: await deps.handleVcsEvent(event), calls: [] };
      const original = redeliveryOf(message);
      await deps.recordDecision?.(event, result, {
        bitbucketCalls: calls,
        ...(original === undefined ? {} : { redeliveryOf: original }),
      });
      handled.inc({ type: event.type, outcome: result.ignored === undefined ? 'handled' : 'ignored' });
    } catch (err) {
      handled.inc({ type: event.type, outcome: 'failed' });
      throw err;
    }
  });
}
