import { expect } from 'chai';
import { eventTypeForKey, normalize, routingKeyFor, validateEvent } from '@stacklink/events';
import { eventKeysFromSources, listFixtures, readFixture, waitFor } from '@stacklink/testing';
import { GatewayHarness } from './harness';

/**
 * Every webhook body of ../shared/fixtures, signed and sent through the real endpoint, comes out as
 * the canonical event the normalizer makes of it (or is ignored), valid against the schema. The event
 * key comes from SOURCES.md, never from the body.
 */
describe('webhook gateway — every fixture through the real endpoint', () => {
  const h = new GatewayHarness();
  const keys = eventKeysFromSources();

  before(async () => {
    await h.startIntegration();
    await h.createIntegration();
    await h.startProbe();
    await h.startGateway();
  });

  after(async () => {
    await h.cleanup();
  });

  it('SOURCES.md names the event key of every webhook fixture', () => {
    expect(listFixtures('webhooks').filter((f) => !keys.has(f))).to.deep.equal([]);
  });

  for (const file of listFixtures('webhooks')) {
    it(`${file} is ${eventTypeForKey(keys.get(file) ?? '') ?? 'ignored'}`, async () => {
      const eventKey = keys.get(file)!;
      const body = readFixture('webhooks', file);
      const requestId = `fixture-${file}`;
      const res = await h.deliver(body, {
        eventKey,
        requestId,
        signature: eventKey === 'diagnostics:ping' ? null : undefined,
      });
      const type = eventTypeForKey(eventKey);
      if (type === undefined) {
        expect(res.status).to.equal(200);
        return;
      }
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      await waitFor(() => h.published.some((p) => p.messageId === res.body.eventId), {
        message: `${file} published`,
      });
      const published = h.published.find((p) => p.messageId === res.body.eventId)!;
      expect(published.routingKey).to.equal(routingKeyFor(type));
      const event = validateEvent(published.body, { mode: 'producer' });
      const expected = normalize({
        eventKey,
        deliveryId: requestId,
        integrationId: h.integrationId,
        receivedAt: new Date(event.receivedAt),
        body: JSON.parse(body.toString()) as unknown,
        id: event.id,
      });
      expect(expected.kind).to.equal('event');
      expect(event).to.deep.equal(expected.kind === 'event' ? expected.event : undefined);
      if (event.type === 'push') {
        const raw = JSON.parse(body.toString()) as { changes: unknown[] };
        expect(event.push.changes).to.have.length(raw.changes.length);
      }
    });
  }
});
