import type { Bus } from '@stacklink/bus';
import { toBusMessage } from '@stacklink/events';
import type { EventPublisherPort } from '../domain/ports';

export function createBusEventPublisher(bus: Bus): EventPublisherPort {
  return {
    async publish(event) {
      // The event comes straight from normalize(), which validated it in producer mode.
      const m = toBusMessage(event, { alreadyValidated: true });
      await bus.publish(m.exchange, m.routingKey, m.body, {
        messageId: m.messageId,
        headers: { ...m.headers },
      });
    },
  };
}
