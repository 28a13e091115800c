import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { sign } from '@stacklink/bitbucket';
import { ownWebhook, readBody } from '@stacklink/fixtures';
import { createTcpProxy, REDIS_URL, waitFor } from '@stacklink/testing';
import { GatewayHarness } from './harness';

const prOpened = readBody(ownWebhook('pr-opened.json'));

describe('webhook gateway — failures (real RabbitMQ, Redis, integration service)', () => {
  let h: GatewayHarness;

  beforeEach(async () => {
    h = new GatewayHarness();
    await h.startIntegration();
    await h.createIntegration();
    await h.startProbe();
  });

  afterEach(async () => {
    await h.cleanup();
  });

  it('when the broker is unreachable, it answers 503 with Retry-After and the delivery is not marked as seen', async () => {
    const { proxy, url } = await h.brokerProxy();
    await h.startGateway({ RABBITMQ_URL: url });
    await proxy.cut();

    const down = await h.deliver(prOpened, { requestId: 'while-down' });
    expect(down.status).to.equal(503);
    expect(down.headers.get('retry-after')).to.match(/^\d+$/);
    expect(h.published).to.have.length(0);

    await proxy.restore();
    await waitFor(() => h.gateway!.bus.isReady(), {
      timeoutMs: 15000,
      message: 'gateway reconnects to the broker',
    });
    const again = await h.deliver(prOpened, { requestId: 'while-down' });
    expect(again.status).to.equal(202);
    await waitFor(() => h.published.length === 1, { message: 'the retried delivery is published' });
    expect(h.published[0]!.body.deliveryId).to.equal('while-down');
  });

  it('when the integration service is down and nothing is cached, it answers 503 with Retry-After', async () => {
    await h.startGateway();
    await h.integration!.stop();

    const res = await h.deliver(prOpened);
    expect(res.status).to.equal(503);
    expect(res.headers.get('retry-after')).to.match(/^\d+$/);
    expect((res.body.error as { code: string }).code).to.equal('WEBHOOK.SECRETS_UNAVAILABLE');
  });

  it('when the integration service goes down with a warm cache, deliveries are still accepted — even past the cache TTL', async () => {
    await h.startGateway({ SECRET_CACHE_TTL_SECONDS: '1' });
    expect((await h.deliver(prOpened)).status).to.equal(202);
    await h.integration!.stop();
    const ttlPassed = Date.now() + 1100;
    await waitFor(() => Date.now() > ttlPassed, { message: 'cache TTL passes' });

    const res = await h.deliver(prOpened);
    expect(res.status).to.equal(202);
    await waitFor(() => h.published.length === 2, { message: 'both published' });
  });

  it('when Redis is unreachable, it still accepts (consumers are idempotent) and says so in the log', async () => {
    const target = new URL(REDIS_URL);
    const redisProxy = await createTcpProxy({
      targetHost: target.hostname,
      targetPort: Number(target.port || 6379),
    });
    try {
      await h.startGateway({ REDIS_URL: redisProxy.urlFor(REDIS_URL) });
      await redisProxy.cut();
      const res = await h.deliver(prOpened);
      expect(res.status).to.equal(202);
      await waitFor(() => h.published.length === 1, { message: 'published without dedup' });
      expect(h.capture.text()).to.contain('dedup store unavailable');
      // Still ready for the load balancer, but says it runs degraded.
      const ready = await fetch(`${h.gateway!.url}/readyz`);
      expect(ready.status).to.equal(200);
      expect(await ready.json()).to.deep.include({ status: 'degraded' });
    } finally {
      await redisProxy.close();
    }
  });

  it('after the webhook secret is rotated, the new secret works at once and the old one during its grace period', async () => {
    await h.startGateway({ SECRET_CACHE_TTL_SECONDS: '3600' });
    const oldSecret = h.secret;
    expect((await h.deliver(prOpened)).status).to.equal(202);

    const rotated = await fetch(
      `${h.integration!.url}/api/v1/integrations/${h.integrationId}/webhook-secret/rotate`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${h.adminToken}` },
      },
    );
    const newSecret = ((await rotated.json()) as { webhook: { secret: string } }).webhook.secret;

    // integration.secret_rotated drops the gateway's cached secrets despite the hour-long TTL.
    await waitFor(
      async () => (await h.deliver(prOpened, { signature: sign(newSecret, prOpened) })).status === 202,
      {
        message: 'the new secret is accepted',
      },
    );
    expect((await h.deliver(prOpened, { signature: sign(oldSecret, prOpened) })).status).to.equal(202);
    expect((await h.deliver(prOpened, { signature: sign('neither', prOpened) })).status).to.equal(401);
  });

  it('stopped gracefully while deliveries are in flight, every 202 it gave has its message on the queue', async () => {
    await h.startGateway();
    const deliveries = Array.from({ length: 150 }, () =>
      h.deliver(prOpened, { requestId: randomUUID() }).catch(() => undefined),
    );
    await waitFor(() => h.published.length >= 10, { message: 'some deliveries published' });
    const stopping = h.gateway!.stop();
    const answers = await Promise.all(deliveries);
    await stopping;

    const accepted = answers.filter((a) => a?.status === 202).map((a) => a!.body.eventId as string);
    expect(accepted.length).to.be.greaterThan(9);
    await waitFor(() => accepted.every((id) => h.published.some((p) => p.messageId === id)), {
      message: 'every accepted event is on the queue',
    });
    const refused = answers.filter((a) => a !== undefined && a.status !== 202);
    expect(refused.every((a) => a!.status === 503)).to.equal(true);
    h.gateway = undefined;
  });
});
