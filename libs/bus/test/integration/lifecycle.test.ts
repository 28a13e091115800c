import { expect } from 'chai';
import { createCapturingLogger } from '@stacklink/logger';
import { waitFor } from '@stacklink/testing';
import { gate, Harness, rejectionOf } from './harness';

describe('bus lifecycle (real RabbitMQ)', () => {
  let h: Harness;

  beforeEach(() => {
    h = new Harness();
  });

  afterEach(async () => {
    await h.cleanup();
  });

  it('start declares durable quorum work, retry and dead-letter queues under the namespace', async () => {
    const bus = h.bus();

    await bus.start();

    expect(bus.isReady()).to.equal(true);
    const quorum = { 'x-queue-type': 'quorum' };
    const expected: Record<string, Record<string, unknown>> = {
      work: {
        ...quorum,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': h.physical('work.dlq'),
        'x-delivery-limit': 20,
      },
      'work.dlq': quorum,
      'work.retry.100ms': {
        ...quorum,
        'x-message-ttl': 100,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': h.physical('work'),
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
      },
    };
    // RabbitMQ accepts a re-declaration only when durability and every argument are equivalent, and
    // refuses one that differs; so, for a queue that exists (checkQueue fails on one the bus never
    // declared), one success and one refusal pin down what it is.
    for (const [queue, args] of Object.entries(expected)) {
      const channel = await h.adminChannel();
      await channel.checkQueue(h.physical(queue));
      await channel.assertQueue(h.physical(queue), { durable: true, arguments: args });
      const error = await rejectionOf(
        channel.assertQueue(h.physical(queue), {
          durable: true,
          arguments: { ...args, 'x-queue-type': 'classic' },
        }),
      );
      expect(String(error.message), queue).to.contain('PRECONDITION_FAILED');
    }
  });

  it('after the connection drops and returns, it re-declares its topology and publishes and consumes again without a restart', async () => {
    const proxy = await h.proxy();
    const { logger, text } = createCapturingLogger();
    const bus = h.bus({ url: proxy.urlFor(h.url), logger });
    await bus.start();
    const handled: string[] = [];
    await bus.consume('work', async (msg) => {
      handled.push(msg.messageId ?? '');
    });
    await bus.publish('events', 'work.created', {}, { messageId: 'before' });
    await waitFor(() => handled.length === 1, { message: 'the first message was not handled' });

    await proxy.cut();
    await waitFor(() => !bus.isReady(), { message: 'the bus did not notice the cut' });
    // Lost while disconnected: the reconnect must declare the queue and its binding again.
    const admin = await h.adminChannel();
    await admin.deleteQueue(h.physical('work'));
    await proxy.restore();

    await waitFor(() => bus.isReady(), { timeoutMs: 5000, message: 'the bus never reconnected' });
    await bus.publish('events', 'work.created', {}, { messageId: 'after' });
    await waitFor(() => handled.length === 2, { message: 'the consumer did not resume' });
    expect(handled).to.deep.equal(['before', 'after']);
    expect(text())
      .to.contain('bus connection lost')
      .and.contain('bus reconnected')
      .and.not.contain('guest:guest');
  });

  it('when its queue is deleted under a live consumer, the bus declares it again and keeps consuming', async () => {
    const bus = h.bus();
    await bus.start();
    const handled: string[] = [];
    await bus.consume('work', async (msg) => {
      handled.push(msg.messageId ?? '');
    });

    const admin = await h.adminChannel();
    await admin.deleteQueue(h.physical('work'));

    await waitFor(
      async () => {
        await bus.publish('events', 'work.created', {}, { messageId: 'again' });
        return true;
      },
      { timeoutMs: 5000, message: 'publishing never succeeded again' },
    );
    await waitFor(() => handled.includes('again'), { message: 'the consumer was not re-attached' });
  });

  it('close waits for an in-flight handler to finish and ack before it resolves', async () => {
    const bus = h.bus();
    await bus.start();
    const started = gate();
    let finishedAt = 0;
    await bus.consume('work', async () => {
      started.open();
      await new Promise((resolve) => setTimeout(resolve, 300));
      finishedAt = Date.now();
    });
    await bus.publish('events', 'work.created', {}, { messageId: 'slow' });
    await started.promise;

    await bus.close();

    expect(finishedAt).to.be.above(0);
    expect(bus.isReady()).to.equal(false);
    // Acked before the connection closed; otherwise the broker would have put it back.
    expect(await h.readyCount('work')).to.equal(0);
    const error = await rejectionOf(bus.publish('events', 'work.created', {}, { messageId: 'late' }));
    expect(error).to.include({ code: 'BUS.PUBLISH_FAILED' });
  });

  it('close gives up on a handler that outlives its bound, and the message goes back to the queue', async () => {
    const bus = h.bus({ closeTimeoutMs: 200 });
    await bus.start();
    const started = gate();
    const never = gate();
    await bus.consume('work', async () => {
      started.open();
      await never.promise;
    });
    await bus.publish('events', 'work.created', {}, { messageId: 'stuck' });
    await started.promise;

    const closing = Date.now();
    await bus.close();

    expect(Date.now() - closing).to.be.below(2000);
    await waitFor(async () => (await h.readyCount('work')) === 1, {
      message: 'the unfinished message was lost',
    });
    never.open();
  });
});
