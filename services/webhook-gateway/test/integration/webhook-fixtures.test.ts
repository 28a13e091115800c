import { expect } from 'chai';
import { eventTypeForKey, normalize, routingKeyFor, validateEvent } from '@stacklink/events';
import { ownCorpus, readBody, type WebhookFixture } from '@stacklink/fixtures';
import { BITBUCKET_DC_MORE_OUTCOMES, describePublicCorpus, waitFor } from '@stacklink/testing';
import { GatewayHarness } from './harness';

/**
 * The fixture table test (docs/architecture.md §5, §11): every webhook body of our own corpus and,
 * when they are there, of both public corpora, signed and sent through the real endpoint, comes out as
 * its expected outcome: the canonical event the normalizer makes of it (valid, on its routing key),
 * 200 ignored, 200 for the unsigned ping, or 400 rejected. The event key is the header the body was
 * delivered with (the manifest's or SOURCES.md's column), never the body's own `eventKey`.
 */
type Outcome = string; // a canonical event type, or 'ignored' | 'ping' | 'rejected'

describe('webhook gateway — every fixture through the real endpoint', () => {
  const h = new GatewayHarness();
  /** Request ids of the deliveries answered 202, and of all the others; nothing else may be published. */
  const accepted = new Set<string>();
  const notPublished = new Set<string>();

  before(async () => {
    await h.startIntegration();
    await h.createIntegration();
    await h.startProbe();
    await h.startGateway();
  });

  after(async () => {
    await h.cleanup();
  });

  function deliversAsExpected(fixture: WebhookFixture, outcome: Outcome): void {
    it(`${fixture.file} (${fixture.eventKey}) → ${outcome}`, async () => {
      const body = readBody(fixture);
      const requestId = `fixture-${fixture.corpus}-${fixture.file}`;
      const res = await h.deliver(body, {
        eventKey: fixture.eventKey,
        requestId,
        // Bitbucket sends the connection test unsigned (docs/architecture.md §5).
        signature: outcome === 'ping' ? null : undefined,
      });
      if (outcome === 'ping' || outcome === 'ignored' || outcome === 'rejected') {
        notPublished.add(requestId);
        const status = outcome === 'rejected' ? 400 : 200;
        expect(res.status, JSON.stringify(res.body)).to.equal(status);
        if (outcome === 'ignored') expect(res.body).to.include({ ignored: true });
        if (outcome === 'rejected') expect(res.body).to.have.nested.property('error.code');
        return;
      }
      expect(eventTypeForKey(fixture.eventKey), 'the table and the header agree').to.equal(outcome);
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      accepted.add(requestId);
      await waitFor(() => h.published.some((p) => p.messageId === res.body.eventId), {
        message: `${fixture.file} published`,
      });
      const published = h.published.find((p) => p.messageId === res.body.eventId)!;
      expect(published.routingKey).to.equal(routingKeyFor(outcome as Parameters<typeof routingKeyFor>[0]));
      const event = validateEvent(published.body, { mode: 'producer' });
      const expected = normalize({
        eventKey: fixture.eventKey,
        deliveryId: requestId,
        integrationId: h.integrationId,
        receivedAt: new Date(event.receivedAt),
        body: JSON.parse(body.toString()) as unknown,
        id: event.id,
      });
      expect(expected.kind).to.equal('event');
      expect(event).to.deep.equal(expected.kind === 'event' ? expected.event : undefined);
      expect(event.type).to.equal(outcome);
      if (event.type === 'push') {
        const raw = JSON.parse(body.toString()) as { changes: unknown[] };
        expect(event.push.changes).to.have.length(raw.changes.length);
      }
    });
  }

  describe('our own corpus (libs/fixtures)', () => {
    const corpus = ownCorpus();

    it('has a body for every outcome: each canonical type, ignored, ping and rejected', () => {
      const outcomes = new Set(corpus.webhooks.map((f) => f.expected));
      expect([...outcomes]).to.include.members([
        'ignored',
        'ping',
        'rejected',
        'push',
        'pull_request.opened',
      ]);
    });

    for (const fixture of corpus.webhooks) deliversAsExpected(fixture, fixture.expected!);
  });

  describePublicCorpus('bitbucket-dc', 'the public corpus of Bitbucket captures', (corpus) => {
    // The X-Event-Key column of SOURCES.md says what each body is; keys we do not handle are ignored,
    // and the connection test is the unsigned ping.
    for (const fixture of corpus.webhooks) {
      const type = eventTypeForKey(fixture.eventKey);
      const outcome = fixture.eventKey === 'diagnostics:ping' ? 'ping' : (type ?? 'ignored');
      deliversAsExpected(fixture, outcome);
    }
  });

  describePublicCorpus('bitbucket-dc-more', 'the second public corpus of Bitbucket captures', (corpus) => {
    it('every capture has a written-out outcome, and every outcome a capture', () => {
      const files = corpus.webhooks.map((f) => f.file);
      expect(
        files.filter((f) => !(f in BITBUCKET_DC_MORE_OUTCOMES)),
        'without an outcome',
      ).to.deep.equal([]);
      expect(
        Object.keys(BITBUCKET_DC_MORE_OUTCOMES).filter((f) => !files.includes(f)),
        'outcomes without a capture',
      ).to.deep.equal([]);
    });

    for (const fixture of corpus.webhooks) {
      const outcome = BITBUCKET_DC_MORE_OUTCOMES[fixture.file];
      if (outcome !== undefined) deliversAsExpected(fixture, outcome);
    }
  });

  it('published exactly the accepted deliveries, once each, and nothing for the others', async () => {
    // A last accepted delivery: the gateway publishes in order into one queue, so once it has arrived,
    // anything wrongly published for an earlier delivery has arrived too.
    const sentinel = ownCorpus().webhooks.find((f) => f.expected === 'push')!;
    const res = await h.deliver(readBody(sentinel), { eventKey: sentinel.eventKey, requestId: 'sentinel' });
    expect(res.status).to.equal(202);
    await waitFor(() => h.published.some((p) => p.body.deliveryId === 'sentinel'), {
      message: 'the sentinel',
    });

    const deliveryIds = h.published.map((p) => p.body.deliveryId as string).filter((id) => id !== 'sentinel');
    expect(
      deliveryIds.filter((id) => notPublished.has(id)),
      'published though not accepted',
    ).to.deep.equal([]);
    expect(new Set(deliveryIds).size, 'no delivery published twice').to.equal(deliveryIds.length);
    expect(new Set(deliveryIds)).to.deep.equal(accepted);
  });
});
