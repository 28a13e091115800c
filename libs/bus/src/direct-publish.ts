import type { ConfirmChannel } from 'amqplib';

/** What the bus sets on a message of its own; every message is also persistent and mandatory. */
export interface MessageProperties {
  contentType?: string;
  messageId?: string;
  /** Seconds since the epoch (AMQP's timestamp). */
  timestamp?: number;
  correlationId?: string;
  headers: Record<string, unknown>;
}

/** Called with null once the broker confirmed the message, with an error when it did not. */
export type Confirmed = (err: unknown) => void;

/** Publishes one persistent, mandatory message; false when the channel asks the caller to slow down. */
export type PublishMessage = (
  exchange: string,
  routingKey: string,
  content: Buffer,
  properties: MessageProperties,
  confirmed: Confirmed,
) => boolean;

interface ConfirmChannelInternals {
  pushConfirmCallback?: (confirmed: Confirmed) => void;
  sendMessage?: (fields: object, properties: object, content: Buffer) => boolean;
}

/**
 * A publish for a confirm channel that hands amqplib the message's headers as they are.
 *
 * amqplib's `publish` (`Args.publish` in its api_args.js) puts the options' headers object as the
 * prototype of a new, empty object: V8 then turns every message's headers into a prototype, and the
 * codec reads each header through the prototype chain. With the six headers of an event that is
 * ~4 µs per message, more than encoding all the rest of it. This sends the fields `publish` would have
 * built, with the headers as a plain object of their own, through the two calls a confirm channel's
 * `publish` makes itself, in its order: `sendMessage`, then `pushConfirmCallback`. The order matters:
 * `sendMessage` throws on a closed channel and (amqplib 2.3.1) on headers too large to encode, before
 * anything is sent; a callback pushed first would stay behind in the channel's list of unconfirmed
 * messages (the leak amqplib 1.0.4 fixed in `publish`) and take the confirm of the next message sent.
 *
 * Those two are amqplib internals, pinned by package-lock.json; a test holds amqplib to them and
 * checks the frames are byte for byte what `publish` encodes. Without them this is plain `publish`.
 */
export function messagePublisher(channel: ConfirmChannel): { publish: PublishMessage; direct: boolean } {
  const internals = channel as unknown as ConfirmChannelInternals;
  if (typeof internals.pushConfirmCallback !== 'function' || typeof internals.sendMessage !== 'function') {
    return {
      direct: false,
      publish: (exchange, routingKey, content, properties, confirmed) =>
        channel.publish(
          exchange,
          routingKey,
          content,
          { ...properties, persistent: true, mandatory: true },
          confirmed,
        ),
    };
  }
  return {
    direct: true,
    publish: (exchange, routingKey, content, properties, confirmed) => {
      // Every field Args.publish sets, in its order, so the object keeps one shape.
      const fields = {
        exchange,
        routingKey,
        mandatory: true,
        immediate: false,
        ticket: undefined,
        contentType: properties.contentType,
        contentEncoding: undefined,
        headers: properties.headers,
        deliveryMode: 2, // persistent
        priority: undefined,
        correlationId: properties.correlationId,
        replyTo: undefined,
        expiration: undefined,
        messageId: properties.messageId,
        timestamp: properties.timestamp,
        type: undefined,
        userId: undefined,
        appId: undefined,
        clusterId: undefined,
      };
      // Looked up on every call, not kept: a closed channel replaces sendMessage with one that throws,
      // as publish does then. The callback is registered only once the message has gone to the channel.
      const ch = internals as Required<ConfirmChannelInternals>;
      const flowing = ch.sendMessage(fields, fields, content);
      ch.pushConfirmCallback(confirmed);
      return flowing;
    },
  };
}
