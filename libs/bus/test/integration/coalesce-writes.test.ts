import { expect } from 'chai';
import amqp from 'amqplib';
import { RABBITMQ_URL } from '@stacklink/testing';
import { coalesceFrameWrites } from '../../src/coalesce-writes';

interface WritableInternals {
  _write: (...args: unknown[]) => void;
  _writev?: (...args: unknown[]) => void;
}

/** Counts the writes that reach the socket's implementation: one system call each. */
function countSocketWrites(model: amqp.ChannelModel): () => number {
  const socket = (model as unknown as { connection: { stream: WritableInternals } }).connection.stream;
  let writes = 0;
  const write = socket._write;
  const writev = socket._writev;
  socket._write = function (this: unknown, ...args: unknown[]) {
    writes++;
    write.apply(this, args);
  };
  if (writev) {
    socket._writev = function (this: unknown, ...args: unknown[]) {
      writes++;
      writev.apply(this, args);
    };
  }
  return () => writes;
}

/** Publishes `count` messages in one synchronous burst and waits for every confirm. */
async function burst(model: amqp.ChannelModel, count: number): Promise<number> {
  const channel = await model.createConfirmChannel();
  const queue = (await channel.assertQueue('', { exclusive: true, autoDelete: true })).queue;
  await channel.waitForConfirms();
  const writes = countSocketWrites(model);
  const confirms: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    confirms.push(
      new Promise<void>((resolve, reject) =>
        channel.sendToQueue(queue, Buffer.from(`m${i}`), {}, (err: unknown) =>
          err ? reject(new Error(`publish ${i} was not confirmed`)) : resolve(),
        ),
      ),
    );
  }
  await Promise.all(confirms);
  const written = writes();
  const { messageCount } = await channel.checkQueue(queue);
  expect(messageCount).to.equal(count);
  await channel.close();
  return written;
}

describe('coalesced frame writes (real RabbitMQ)', () => {
  const models: amqp.ChannelModel[] = [];
  afterEach(async () => {
    for (const m of models.splice(0)) await m.close().catch(() => undefined);
  });
  const connect = async () => {
    const model = await amqp.connect(RABBITMQ_URL);
    models.push(model);
    return model;
  };

  it('sends a burst of publishes in one socket write, where plain amqplib writes one per publish', async () => {
    const plain = await connect();
    const coalesced = await connect();
    expect(coalesceFrameWrites(coalesced)).to.equal(true);

    const plainWrites = await burst(plain, 20);
    const coalescedWrites = await burst(coalesced, 20);

    // The premise: without it, amqplib writes every publish on its own.
    expect(plainWrites).to.be.at.least(20);
    expect(coalescedWrites).to.equal(1);
  });

  it('changes nothing, and says so, when amqplib does not have what it reaches for', () => {
    expect(coalesceFrameWrites({} as amqp.ChannelModel)).to.equal(false);
    expect(coalesceFrameWrites({ connection: { muxer: {} } } as unknown as amqp.ChannelModel)).to.equal(
      false,
    );
  });
});
