import { expect } from 'chai';
import { AppError } from '@stacklink/errors';
import { createCapturingLogger } from '@stacklink/logger';
import { waitFor } from '@stacklink/testing';
import { IncomingMessage } from '../../src';
import { gate, Harness } from './harness';

describe('bus consume (real RabbitMQ)', () => {
  let h: Harness;

  beforeEach(() => {
    h = new Harness();
  });

  afterEach(async () => {
    await h.cleanup();
  });

  it('a handler that resolves gets the parsed message once and the message leaves the queue', async () => {
    const bus = h.bus();
    await bus.start();
    const seen: IncomingMessage[] = [];
    await bus.consume('work', async (msg) => {
      seen.push(msg);
    });

    await bus.publish(
      'events',
      'work.created',
      { id: 7 },
      { messageId: 'evt-7', headers: { projectKey: 'PRJ' } },
    );

    await waitFor(() => seen.length === 1, { message: 'the handler never ran' });
    const msg = seen[0]!;
    expect(msg.body).to.deep.equal({ id: 7 });
    expect(msg).to.include({
      messageId: 'evt-7',
      exchange: 'events',
      routingKey: 'work.created',
      attempt: 1,
      redelivered: false,
    });
    expect(msg.headers).to.deep.equal({ projectKey: 'PRJ' });
    // Closing returns unacked messages to the queue, so an empty queue afterwards proves the ack.
    await bus.close();
    expect(await h.readyCount('work')).to.equal(0);
    expect(seen).to.have.length(1);
    expect(await h.metric('stacklink_bus_consumed_total', { queue: 'work' })).to.equal(1);
  });

  it('when a consumer dies mid-handler without acking, the message is redelivered and handled once by the survivor', async () => {
    const proxy = await h.proxy();
    const { logger, text } = createCapturingLogger();
    const doomed = h.bus({ url: proxy.urlFor(h.url), logger });
    const survivor = h.bus();
    await Promise.all([doomed.start(), survivor.start()]);
    const stuck = gate();
    const doomedSeen: IncomingMessage[] = [];
    const survivorSeen: IncomingMessage[] = [];
    await doomed.consume('work', async (msg) => {
      doomedSeen.push(msg);
      await stuck.promise;
    });
    await survivor.publish('events', 'work.created', { id: 1 }, { messageId: 'evt-1' });
    await waitFor(() => doomedSeen.length === 1, { message: 'the first consumer never got the message' });
    // Attached only now, so the first delivery cannot have gone to the survivor.
    await survivor.consume('work', async (msg) => {
      survivorSeen.push(msg);
    });

    await proxy.cut();

    await waitFor(() => survivorSeen.length === 1, { message: 'the message was not redelivered' });
    expect(survivorSeen[0]).to.include({ messageId: 'evt-1', redelivered: true, attempt: 1 });
    // The dead consumer comes back (a new connection and channel) before its handler finishes: the late
    // finish must neither ack on the new channel nor bring a second delivery.
    await proxy.restore();
    await waitFor(async () => (await h.consumerCount('work')) === 2, {
      message: 'the first consumer never came back',
    });
    stuck.open();
    await survivor.publish('events', 'work.created', { id: 2 }, { messageId: 'evt-2' });
    const handled = () => [...doomedSeen, ...survivorSeen];
    await waitFor(() => handled().some((m) => m.messageId === 'evt-2'), {
      message: 'a message published after the reconnect was never handled',
    });
    await Promise.all([doomed.close(), survivor.close()]);
    expect(handled().filter((m) => m.messageId === 'evt-1')).to.have.length(2);
    expect(handled().filter((m) => m.messageId === 'evt-2')).to.have.length(1);
    expect(survivorSeen[0]).to.include({ messageId: 'evt-1' });
    expect(doomedSeen[0]).to.include({ messageId: 'evt-1' });
    expect(await h.readyCount('work')).to.equal(0);
    // Its ack went to the channel that delivered it, which is gone; on the new channel the broker would
    // have refused the unknown delivery tag by closing that channel.
    expect(text()).to.contain('bus could not settle a message');
    expect(text()).to.not.contain('bus consumer channel error');
  });

  it('a handler failing with a retryable error is retried with growing delays, then dead-lettered with the error', async () => {
    const bus = h.bus();
    await bus.start();
    const attempts: { attempt: number; at: number; routingKey: string; exchange: string }[] = [];
    await bus.consume('work', async (msg) => {
      attempts.push({
        attempt: msg.attempt,
        at: Date.now(),
        routingKey: msg.routingKey,
        exchange: msg.exchange,
      });
      throw new AppError('BITBUCKET.UNAVAILABLE', 'Bitbucket answered 503', { retryable: true });
    });

    await bus.publish('events', 'work.created', { id: 9 }, { messageId: 'evt-9' });

    await waitFor(async () => (await h.readyCount('work.dlq')) === 1, {
      message: 'the message never reached the DLQ',
    });
    expect(attempts.map((a) => a.attempt)).to.deep.equal([1, 2, 3]);
    // Every retry still looks like the original delivery to the handler.
    expect(attempts.every((a) => a.exchange === 'events' && a.routingKey === 'work.created')).to.equal(true);
    const firstGap = attempts[1]!.at - attempts[0]!.at;
    const secondGap = attempts[2]!.at - attempts[1]!.at;
    expect(firstGap).to.be.at.least(100);
    expect(secondGap).to.be.at.least(300).and.above(firstGap);
    const [parked] = await bus.inspectDeadLetters('work');
    expect(parked).to.deep.include({
      messageId: 'evt-9',
      body: { id: 9 },
      errorCode: 'BITBUCKET.UNAVAILABLE',
      errorMessage: 'Bitbucket answered 503',
      attempts: 3,
      originalExchange: 'events',
      originalRoutingKey: 'work.created',
    });
    expect(Date.parse(parked!.firstFailedAt ?? '')).to.be.closeTo(attempts[0]!.at, 1000);
    expect(await h.metric('stacklink_bus_retried_total', { queue: 'work' })).to.equal(2);
    expect(await h.metric('stacklink_bus_dead_lettered_total', { queue: 'work' })).to.equal(1);
    expect(await h.readyCount('work')).to.equal(0);
  });

  it('a handler failing with a non-retryable AppError is dead-lettered at once without a retry', async () => {
    const bus = h.bus();
    await bus.start();
    let calls = 0;
    await bus.consume('work', async () => {
      calls += 1;
      throw new AppError('EVENT.INVALID', 'payload fails its schema', { retryable: false });
    });

    await bus.publish('events', 'work.created', { id: 1 }, { messageId: 'bad-1' });

    await waitFor(async () => (await h.readyCount('work.dlq')) === 1, {
      message: 'the message never reached the DLQ',
    });
    expect(calls).to.equal(1);
    const [parked] = await bus.inspectDeadLetters('work');
    expect(parked).to.include({ errorCode: 'EVENT.INVALID', attempts: 1 });
    expect(await h.metric('stacklink_bus_retried_total', { queue: 'work' })).to.equal(0);
  });

  it('a poison message never blocks the messages behind it, even with a prefetch of one', async () => {
    const bus = h.bus();
    await bus.start();
    const handled: string[] = [];
    await bus.consume(
      'work',
      async (msg) => {
        if (msg.messageId === 'fails') throw new Error('always fails');
        handled.push(msg.messageId ?? '');
      },
      { prefetch: 1 },
    );

    await bus.publish('events', 'work.created', Buffer.from('{not json'), { messageId: 'not-json' });
    await bus.publish('events', 'work.created', { n: 0 }, { messageId: 'fails' });
    for (let i = 1; i <= 3; i += 1)
      await bus.publish('events', 'work.created', { n: i }, { messageId: `good-${i}` });

    await waitFor(() => handled.length === 3, { message: 'messages behind the poison were not handled' });
    expect(handled).to.deep.equal(['good-1', 'good-2', 'good-3']);
    await waitFor(async () => (await h.readyCount('work.dlq')) === 2, {
      message: 'the poison messages were not parked',
    });
    const parked = await bus.inspectDeadLetters('work');
    const byId = new Map(parked.map((p) => [p.messageId, p]));
    expect(byId.get('not-json')).to.include({ errorCode: 'BUS.INVALID_JSON', attempts: 1 });
    expect(byId.get('fails')).to.include({
      errorCode: 'HANDLER.FAILED',
      errorMessage: 'always fails',
      attempts: 3,
    });
  });

  it('a parked message can be replayed to its queue, where it starts over as a first attempt', async () => {
    const bus = h.bus();
    await bus.start();
    let healthy = false;
    const handled: IncomingMessage[] = [];
    await bus.consume('work', async (msg) => {
      if (!healthy) throw new AppError('STACK.NOT_FOUND', 'stack missing', { retryable: false });
      handled.push(msg);
    });
    await bus.publish('events', 'work.created', { id: 1 }, { messageId: 'keep-parked' });
    await bus.publish('events', 'work.updated', { id: 2 }, { messageId: 'replay-me' });
    await waitFor(async () => (await h.readyCount('work.dlq')) === 2, {
      message: 'the messages were not parked',
    });

    healthy = true;
    const result = await bus.replayDeadLetters('work', { messageIds: ['replay-me'] });

    expect(result).to.deep.equal({ replayed: 1 });
    await waitFor(() => handled.length === 1, { message: 'the replayed message was not handled' });
    expect(handled[0]).to.include({
      messageId: 'replay-me',
      attempt: 1,
      exchange: 'events',
      routingKey: 'work.updated',
    });
    expect(handled[0]!.headers).not.to.have.property('x-error-code');
    const stillParked = await bus.inspectDeadLetters('work');
    expect(stillParked.map((p) => p.messageId)).to.deep.equal(['keep-parked']);
  });
});
