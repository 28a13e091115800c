import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { expect } from 'chai';
import { sign } from '@stacklink/bitbucket';
import { validateEvent } from '@stacklink/events';
import { ownWebhook, readBody } from '@stacklink/fixtures';
import { waitFor } from '@stacklink/testing';
import { GatewayHarness } from './harness';

const prOpened = readBody(ownWebhook('pr-opened.json'));

describe('webhook gateway — the docs/architecture.md §5 table (real RabbitMQ, Redis, integration service)', () => {
  let h: GatewayHarness;

  beforeEach(async () => {
    h = new GatewayHarness();
    await h.startIntegration();
    await h.createIntegration();
    await h.startProbe();
    await h.startGateway({ WEBHOOK_BODY_LIMIT_BYTES: String(64 * 1024) });
  });

  afterEach(async () => {
    await h.cleanup();
  });

  it('with a valid signature and a supported event, it answers 202 {eventId} after publishing the event once', async () => {
    const res = await h.deliver(prOpened, { eventKey: 'pr:opened', requestId: 'req-1' });

    expect(res.status).to.equal(202);
    const eventId = res.body.eventId as string;
    expect(eventId).to.match(/^[0-9a-f-]{36}$/);
    await waitFor(() => h.published.length === 1, { message: 'the event reaches the probe queue' });
    const [m] = h.published;
    expect(m!.messageId).to.equal(eventId);
    expect(m!.routingKey).to.equal('bitbucket-dc.pull_request.opened');
    expect(m!.headers).to.include({ integrationId: h.integrationId, eventType: 'pull_request.opened' });
    const event = validateEvent(m!.body, { mode: 'producer' });
    expect(event).to.include({
      id: eventId,
      deliveryId: 'req-1',
      integrationId: h.integrationId,
      type: 'pull_request.opened',
    });
  });

  it('when the same X-Request-Id comes again for this integration, it answers 200 {duplicate: true} and publishes nothing more', async () => {
    const first = await h.deliver(prOpened, { requestId: 'dup-1' });
    const again = await h.deliver(prOpened, { requestId: 'dup-1' });

    expect(first.status).to.equal(202);
    expect(again.status).to.equal(200);
    expect(again.body).to.deep.equal({ duplicate: true });
    await waitFor(() => h.published.length >= 1, { message: 'first event published' });
    // A different delivery id afterwards is published, proving the probe still sees new messages.
    const other = await h.deliver(prOpened, { requestId: 'dup-2' });
    expect(other.status).to.equal(202);
    await waitFor(() => h.published.length === 2, { message: 'second delivery published' });
    expect(h.published.map((p) => p.body.deliveryId)).to.deep.equal(['dup-1', 'dup-2']);
  });

  it('answers the unsigned diagnostics:ping with 200 and publishes nothing', async () => {
    const res = await h.deliver('{"test": true}', { eventKey: 'diagnostics:ping', signature: null });
    expect(res.status).to.equal(200);
    await assertNothingPublishedAfterMarker(h);
  });

  it('with a valid signature and an event key it does not handle, it answers 200 {ignored: true} and publishes nothing', async () => {
    const res = await h.deliver(readBody(ownWebhook('ignored-repo-modified.json')), {
      eventKey: 'repo:modified',
    });
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ ignored: true });
    await assertNothingPublishedAfterMarker(h);
  });

  it('when the signature is missing, malformed, of the wrong algorithm or wrong, it answers 401 and publishes nothing', async () => {
    const wrongSecret = sign('not-the-secret', prOpened);
    const flipped = Buffer.from(prOpened);
    flipped[10] = flipped[10]! ^ 1;
    const answers = [
      await h.deliver(prOpened, { signature: null }),
      await h.deliver(prOpened, { signature: 'sha256=zz' }),
      await h.deliver(prOpened, {
        signature: sign(h.secret, prOpened).replace('sha256=', 'sha1=').slice(0, 45),
      }),
      await h.deliver(prOpened, { signature: wrongSecret }),
      await h.deliver(flipped, { signature: sign(h.secret, prOpened) }),
    ];
    expect(answers.map((a) => a.status)).to.deep.equal([401, 401, 401, 401, 401]);
    expect(
      answers.every((a) => (a.body.error as { code: string }).code === 'WEBHOOK.INVALID_SIGNATURE'),
    ).to.equal(true);
    await assertNothingPublishedAfterMarker(h);
    expect(h.capture.text()).not.to.contain(h.secret);
  });

  it('for an unknown integration, it answers 404 and publishes nothing', async () => {
    const res = await h.deliver(prOpened, { integrationId: 'no-such-integration' });
    const malformedId = await h.deliver(prOpened, { integrationId: '..%2F..%2Fadmin' });
    expect(res.status).to.equal(404);
    expect(malformedId.status).to.equal(404);
    await assertNothingPublishedAfterMarker(h);
  });

  it('when the signed body is not JSON, or a supported event fails its schema, it answers 400 naming the problem and publishes nothing', async () => {
    const notJson = await h.deliver('this is not json', { eventKey: 'pr:opened' });
    const body = JSON.parse(prOpened.toString()) as { pullRequest: Record<string, unknown> };
    delete body.pullRequest.fromRef;
    const broken = await h.deliver(JSON.stringify(body), { eventKey: 'pr:opened' });

    expect(notJson.status).to.equal(400);
    expect((notJson.body.error as { code: string }).code).to.equal('WEBHOOK.INVALID_JSON');
    expect(broken.status).to.equal(400);
    expect((broken.body.error as { message: string }).message).to.contain('fromRef');
    await assertNothingPublishedAfterMarker(h);
  });

  it('when the body is over the limit, it answers 413 and publishes nothing — declared or streamed without a length', async () => {
    const big = Buffer.alloc(100 * 1024, 'a');
    const declared = await rawPost(h, big, { 'content-length': String(big.length) });
    const chunked = await rawPost(h, big, { 'transfer-encoding': 'chunked' });
    expect(declared.status).to.equal(413);
    expect(chunked.status).to.equal(413);
    expect(declared.body).to.contain('WEBHOOK.BODY_TOO_LARGE');
    await assertNothingPublishedAfterMarker(h);
  });

  it('counts deliveries by event key and outcome in /metrics', async () => {
    await h.deliver(prOpened);
    await h.deliver(prOpened, { signature: 'sha256=00' });
    const text = await (await fetch(`${h.gateway!.url}/metrics`)).text();
    expect(text).to.match(
      /stacklink_gateway_deliveries_total\{event_key="pr:opened",outcome="accepted"\} [1-9]/,
    );
    expect(text).to.match(/stacklink_gateway_signature_failures_total\{reason="malformed"\} [1-9]/);
  });
});

/** A POST whose response is read even when the server closes the connection mid-upload. */
function rawPost(
  h: GatewayHarness,
  body: Buffer,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(`${h.gateway!.url}/webhooks/bitbucket-dc/${h.integrationId}`);
    let answered = false;
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: {
          'x-event-key': 'pr:opened',
          'x-hub-signature': sign(h.secret, body),
          'content-type': 'application/json',
          ...headers,
        },
      },
      (res) => {
        answered = true;
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    // Send in chunks so the server can answer before the whole body is written.
    for (let i = 0; i < body.length; i += 16 * 1024) req.write(body.subarray(i, i + 16 * 1024));
    req.end();
  });
}

/**
 * "Publishes nothing" needs a deadline that proves something: deliver a valid marker event and wait
 * for it — the broker keeps order per channel, so anything published before it would have arrived.
 */
async function assertNothingPublishedAfterMarker(h: GatewayHarness): Promise<void> {
  const before = h.published.length;
  const marker = await h.deliver(prOpened, { requestId: `marker-${randomUUID()}` });
  expect(marker.status).to.equal(202);
  await waitFor(() => h.published.some((p) => p.messageId === marker.body.eventId), {
    message: 'marker published',
  });
  expect(h.published.slice(before).map((p) => p.messageId)).to.deep.equal([marker.body.eventId]);
}
