import type { Bus } from '@stacklink/bus';
import { toBusMessage } from '@stacklink/events';
import type { EventPublisherPort } from '../domain/ports';

export function createBusEventPublisher(bus: Bus): EventPublisherPort {
  return {
    publish(event) {
      // The event comes straight from normalize(), which validated it in producer mode. The message's
      // headers object is its own, and bus.publish copies it before adding to it.
      const m = toBusMessage(event, { alreadyValidated: true });
      return bus.publish(m.exchange, m.routingKey, m.body, { messageId: m.messageId, headers: m.headers });
    },
  };
}
