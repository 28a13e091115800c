import { expect } from 'chai';
import { waitFor } from '@stacklink/testing';
import { Harness, rejectionOf } from './harness';

describe('bus publish (real RabbitMQ)', () => {
  let h: Harness;

  beforeEach(() => {
    h = new Harness();
  });

  afterEach(async () => {
    await h.cleanup();
  });

  it('when publish resolves, the message is already on its durable queue with its properties', async () => {
    const bus = h.bus();
    await bus.start();

    await bus.publish(
      'events',
      'work.created',
      { id: 42 },
      { messageId: 'evt-1', headers: { integrationId: 'i-1' }, timestampMs: 1_700_000_000_000 },
    );

    // No waiting: a confirm from a quorum queue means the message is already stored there.
    expect(await h.readyCount('work')).to.equal(1);
    const channel = await h.adminChannel();
    const message = await channel.get(h.physical('work'), { noAck: true });
    if (message === false) throw new Error('the queue was empty');
    expect(JSON.parse(message.content.toString())).to.deep.equal({ id: 42 });
    expect(message.properties).to.include({
      messageId: 'evt-1',
      contentType: 'application/json',
      deliveryMode: 2,
      timestamp: 1_700_000_000,
    });
    expect(message.properties.headers).to.include({ integrationId: 'i-1' });
    expect(await h.metric('stacklink_bus_published_total')).to.equal(1);
    expect(await h.metric('stacklink_bus_confirmed_total')).to.equal(1);
  });

  it('a Buffer body passes through unchanged', async () => {
    const bus = h.bus();
    await bus.start();

    await bus.publish('events', 'work.raw', Buffer.from('{"raw":true}'), { messageId: 'raw-1' });

    const channel = await h.adminChannel();
    const message = await channel.get(h.physical('work'), { noAck: true });
    expect(message && message.content.toString()).to.equal('{"raw":true}');
  });

  it('publishing to an exchange with no bound queue rejects as unroutable and counts nothing as published', async () => {
    const bus = h.bus();
    await bus.start();

    const error = await rejectionOf(
      bus.publish('nowhere', 'work.created', { id: 1 }, { messageId: 'lost-1' }),
    );

    expect(error).to.include({ code: 'BUS.PUBLISH_FAILED', retryable: true, status: 503 });
    expect(error.details).to.deep.equal({ reason: 'unroutable' });
    expect(await h.metric('stacklink_bus_published_total')).to.equal(0);
    expect(await h.metric('stacklink_bus_publish_failed_total', { reason: 'unroutable' })).to.equal(1);
    // The bus stays usable after a returned message.
    await bus.publish('events', 'work.created', { id: 2 }, { messageId: 'ok-2' });
    expect(await h.readyCount('work')).to.equal(1);
  });

  it('publishing to an exchange that does not exist rejects, and the bus publishes again right after', async () => {
    const bus = h.bus();
    await bus.start();

    const error = await rejectionOf(bus.publish('no-such-exchange', 'x', {}, { messageId: 'm-1' }));

    expect(error).to.include({ code: 'BUS.PUBLISH_FAILED', retryable: true });
    await waitFor(() => bus.isReady(), { message: 'the publish channel never reopened' });
    await bus.publish('events', 'work.created', { id: 3 }, { messageId: 'm-2' });
    expect(await h.readyCount('work')).to.equal(1);
  });

  it('when the connection is cut, publish rejects at once and counts nothing as published or confirmed', async () => {
    const proxy = await h.proxy();
    const bus = h.bus({ url: proxy.urlFor(h.url) });
    await bus.start();

    await proxy.cut();
    await waitFor(() => !bus.isReady(), { message: 'the bus did not notice the cut' });
    const started = Date.now();
    const error = await rejectionOf(bus.publish('events', 'work.created', { id: 1 }, { messageId: 'cut-1' }));

    expect(Date.now() - started).to.be.below(500);
    expect(error).to.include({ code: 'BUS.PUBLISH_FAILED', retryable: true });
    expect(error.details).to.deep.equal({ reason: 'not_connected' });
    expect(await h.metric('stacklink_bus_published_total')).to.equal(0);
    expect(await h.metric('stacklink_bus_confirmed_total')).to.equal(0);
    expect(await h.readyCount('work')).to.equal(0);
  });

  it('when the network goes silent, publish rejects within its timeout and counts nothing as published', async () => {
    const proxy = await h.proxy();
    const bus = h.bus({ url: proxy.urlFor(h.url), publishTimeoutMs: 300 });
    await bus.start();

    await proxy.freeze();
    const started = Date.now();
    const error = await rejectionOf(
      bus.publish('events', 'work.created', { id: 1 }, { messageId: 'silent-1' }),
    );
    const elapsed = Date.now() - started;

    expect(error).to.include({ code: 'BUS.PUBLISH_FAILED', retryable: true });
    expect(error.details).to.deep.equal({ reason: 'timeout' });
    expect(elapsed).to.be.at.least(290).and.below(1500);
    expect(await h.metric('stacklink_bus_published_total')).to.equal(0);
    expect(await h.metric('stacklink_bus_confirmed_total')).to.equal(0);
    expect(await h.metric('stacklink_bus_publish_failed_total', { reason: 'timeout' })).to.equal(1);
  });

  it('when the broker is unreachable, start rejects with a retryable BUS.UNAVAILABLE that does not show the password', async () => {
    const proxy = await h.proxy();
    await proxy.cut();
    const url = proxy.urlFor('amqp://stacklink:s3cret-pw@127.0.0.1:5672');
    const bus = h.bus({ url });

    const error = await rejectionOf(bus.start());

    expect(error).to.include({ code: 'BUS.UNAVAILABLE', retryable: true, status: 503 });
    expect(String(error.message)).to.contain(`127.0.0.1:${proxy.port}`).and.not.contain('s3cret-pw');
    expect(bus.isReady()).to.equal(false);
  });
});
