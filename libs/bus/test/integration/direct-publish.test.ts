import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import amqp from 'amqplib';
import { RABBITMQ_URL } from '@stacklink/testing';
import { type MessageProperties, messagePublisher } from '../../src/direct-publish';

// amqplib's own argument builder and encoder, to compare frames with: internals, pinned by
// package-lock.json like the code under test. amqplib 2's `exports` map does not list them, so they
// are loaded by file, from beside the module `amqplib` resolves to.
const load = createRequire(__filename);
const amqplibDir = dirname(load.resolve('amqplib'));
const args = load(join(amqplibDir, 'lib', 'api_args.js')) as {
  publish: (exchange: string, routingKey: string, options: amqp.Options.Publish) => object;
};
const defs = load(join(amqplibDir, 'lib', 'defs.js')) as {
  BasicPublish: number;
  BasicProperties: number;
  encodeMethod: (id: number, channel: number, fields: object) => Buffer;
  encodeProperties: (id: number, channel: number, size: number, fields: object) => Buffer;
};

const encoded = (fields: object, props: object) =>
  Buffer.concat([
    defs.encodeMethod(defs.BasicPublish, 1, fields),
    defs.encodeProperties(defs.BasicProperties, 1, 123, props),
  ]);

/** A stand-in channel that records what the direct publish hands to amqplib's internals, in order. */
function recordingChannel() {
  const calls: { fields?: object; props?: object; content?: Buffer; confirmed?: unknown }[] = [];
  const order: string[] = [];
  const channel = {
    sendMessage: (fields: object, props: object, content: Buffer) => {
      order.push('sendMessage');
      calls.push({ fields, props, content });
      return true;
    },
    pushConfirmCallback: (confirmed: unknown) => {
      order.push('pushConfirmCallback');
      Object.assign(calls[calls.length - 1] ?? {}, { confirmed });
    },
  };
  return { channel: channel as unknown as amqp.ConfirmChannel, calls, order };
}

describe('direct publish (amqplib internals, real RabbitMQ)', () => {
  const models: amqp.ChannelModel[] = [];
  afterEach(async () => {
    for (const m of models.splice(0)) await m.close().catch(() => undefined);
  });

  it('hands amqplib fields that encode byte for byte as its own publish would, headers as they are', () => {
    const { channel, calls, order } = recordingChannel();
    const { publish, direct } = messagePublisher(channel);
    expect(direct).to.equal(true);
    const cases: MessageProperties[] = [
      { headers: {} },
      {
        contentType: 'application/json',
        messageId: '2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d',
        timestamp: 1_764_000_000,
        headers: { integrationId: 'int-1', projectKey: 'PRJ', specVersion: 1, 'x-attempt': 3 },
      },
      { correlationId: 'c-1', messageId: 'm-1', headers: { nested: { a: 'b' }, list: ['x'], flag: true } },
    ];
    const confirmed = () => undefined;
    for (const properties of cases) {
      const headers = properties.headers;
      expect(publish('ex.events', 'work.created', Buffer.from('{}'), properties, confirmed)).to.equal(true);
      const call = calls[calls.length - 1]!;
      expect(call.confirmed).to.equal(confirmed);
      expect((call.props as { headers: unknown }).headers).to.equal(headers);
      const theirs = args.publish('ex.events', 'work.created', {
        ...properties,
        persistent: true,
        mandatory: true,
      });
      expect(encoded(call.fields!, call.props!).equals(encoded(theirs, theirs))).to.equal(
        true,
        JSON.stringify(properties),
      );
    }
    // amqplib's own order since 1.0.4: the message first, its confirm callback once it is on its way.
    expect(order).to.deep.equal(cases.flatMap(() => ['sendMessage', 'pushConfirmCallback']));
  });

  it('the real channel still has the two internals, and its own publish calls them in that order', async () => {
    const model = await amqp.connect(RABBITMQ_URL);
    models.push(model);
    const channel = await model.createConfirmChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    const internals = channel as unknown as Record<string, (...a: unknown[]) => unknown>;
    const order: string[] = [];
    for (const name of ['sendMessage', 'pushConfirmCallback']) {
      const own = internals[name]!;
      expect(own, name).to.be.a('function');
      internals[name] = function (this: unknown, ...a: unknown[]) {
        order.push(name);
        return own.apply(this, a);
      };
    }
    await new Promise<void>((resolve, reject) =>
      channel.sendToQueue(queue, Buffer.from('x'), {}, (err: unknown) =>
        err ? reject(new Error('nacked')) : resolve(),
      ),
    );
    expect(order).to.deep.equal(['sendMessage', 'pushConfirmCallback']);
  });

  it('falls back to amqplib publish, persistent and mandatory, when the internals are not there', () => {
    const seen: unknown[][] = [];
    const channel = { publish: (...a: unknown[]) => seen.push(a) > 0 } as unknown as amqp.ConfirmChannel;
    const { publish, direct } = messagePublisher(channel);
    const confirmed = () => undefined;

    expect(direct).to.equal(false);
    publish('ex', 'rk', Buffer.from('x'), { messageId: 'm-1', headers: { a: 1 } }, confirmed);
    expect(seen[0]!.slice(0, 2)).to.deep.equal(['ex', 'rk']);
    expect(seen[0]![3]).to.deep.equal({
      messageId: 'm-1',
      headers: { a: 1 },
      persistent: true,
      mandatory: true,
    });
    expect(seen[0]![4]).to.equal(confirmed);
  });

  it('a real broker confirms the message and stores it with every property; an unroutable one comes back', async () => {
    const model = await amqp.connect(RABBITMQ_URL);
    models.push(model);
    const channel = await model.createConfirmChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    const { publish, direct } = messagePublisher(channel);
    expect(direct).to.equal(true);
    const returned: amqp.Message[] = [];
    channel.on('return', (m: amqp.Message) => returned.push(m));
    const send = (routingKey: string, exchange = '') =>
      new Promise<void>((resolve, reject) =>
        publish(
          exchange,
          routingKey,
          Buffer.from('{"id":1}'),
          {
            contentType: 'application/json',
            messageId: `m-${routingKey}`,
            timestamp: 1_764_000_000,
            correlationId: 'c-1',
            headers: { integrationId: 'int-1', specVersion: 1 },
          },
          (err) => (err ? reject(new Error('not confirmed')) : resolve()),
        ),
      );

    await send(queue);
    await send('no-such-queue', 'amq.direct');

    const message = await channel.get(queue, { noAck: true });
    if (message === false) throw new Error('the queue was empty');
    expect(message.content.toString()).to.equal('{"id":1}');
    expect(message.properties).to.include({
      contentType: 'application/json',
      messageId: `m-${queue}`,
      timestamp: 1_764_000_000,
      correlationId: 'c-1',
      deliveryMode: 2,
    });
    expect(message.properties.headers).to.deep.equal({ integrationId: 'int-1', specVersion: 1 });
    // Mandatory: the broker returns what no queue took, before confirming it.
    expect(returned.map((m) => m.properties.messageId as unknown)).to.deep.equal(['m-no-such-queue']);

    // A message amqplib refuses to encode (headers over its 64 KiB table buffer, amqplib 2.3.1) throws
    // before anything is sent, and leaves no callback behind: the next message gets its own confirm.
    expect(() =>
      publish('', queue, Buffer.from('x'), { headers: { big: 'x'.repeat(70_000) } }, () => {
        throw new Error('a refused message was confirmed');
      }),
    ).to.throw(RangeError);
    await send(queue);
    const after = await channel.get(queue, { noAck: true });
    if (after === false) throw new Error('the queue was empty');
    expect(after.properties.messageId).to.equal(`m-${queue}`);

    // Like publish, it throws at once on a closed channel (the bus then reports the connection lost).
    await channel.close();
    expect(() => publish('', queue, Buffer.from('x'), { headers: {} }, () => undefined)).to.throw(/closed/i);
  });
});
