import type { CanonicalEvent } from './canonical-event';
import { type EventType, PROVIDER } from './event-types';
import { validateEvent } from './event-schema';

/** The topic exchange every canonical event is published to (docs/architecture.md §1, §6). */
export const VCS_EVENTS_EXCHANGE = 'vcs.events';

/** `bitbucket-dc.<type>`, e.g. `bitbucket-dc.pull_request.opened`; bind with `bitbucket-dc.pull_request.*`. */
export function routingKeyFor(type: EventType): string {
  return `${PROVIDER}.${type}`;
}

/**
 * AMQP headers on every event message, so consumers can filter below the routing key. A type rather
 * than an interface so that it is a plain record of header values to the bus.
 */
export type EventMessageHeaders = {
  integrationId: string;
  /** `repository.projectKey` of the event (the target repository for pull requests). */
  projectKey: string;
  /** `repository.slug` of the event. */
  repositorySlug: string;
  eventType: EventType;
  specVersion: number;
};

export interface BusMessage {
  exchange: typeof VCS_EVENTS_EXCHANGE;
  routingKey: string;
  /** The AMQP `messageId`: the event id, so a consumer can drop a redelivered duplicate. */
  messageId: string;
  headers: EventMessageHeaders;
  body: CanonicalEvent;
}

export interface ToBusMessageOptions {
  /**
   * The event is the `event` of a `normalize()` result, which validated it in producer mode a moment
   * ago; validating the same object again would only double the cost on the gateway's hot path.
   */
  alreadyValidated?: boolean;
}

/**
 * What to publish for an event. Validates it in producer mode first, so nothing off-schema reaches
 * the exchange (STYLE.md: validated by the producer and by the consumer); throws `EVENT.INVALID`.
 */
export function toBusMessage(event: CanonicalEvent, options: ToBusMessageOptions = {}): BusMessage {
  const valid = options.alreadyValidated ? event : validateEvent(event, { mode: 'producer' });
  return {
    exchange: VCS_EVENTS_EXCHANGE,
    routingKey: routingKeyFor(valid.type),
    messageId: valid.id,
    headers: {
      integrationId: valid.integrationId,
      projectKey: valid.repository.projectKey,
      repositorySlug: valid.repository.slug,
      eventType: valid.type,
      specVersion: valid.specVersion,
    },
    body: valid,
  };
}
