import { expect } from 'chai';
import { Registry } from 'prom-client';
import { createSilentLogger } from '@stacklink/logger';
import { waitFor } from '@stacklink/testing';
import { createBusDeliveryRecorder } from '../../src/adapters/bus-delivery-recorder';
import type { Delivery } from '../../src/domain/accept-delivery';

const BODY = Buffer.from('{"secret-looking":"stacks/network/vpc.tf"}');

const delivery = (n: number): Delivery => ({
  integrationId: 'int-1',
  eventKey: 'repo:refs_changed',
  deliveryId: `d-${n}`,
  signature: 'sha256=00',
  contentType: 'application/json',
  rawBody: BODY,
  receivedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)),
});

interface Published {
  exchange: string;
  body: { records: Record<string, unknown>[] };
}

function fakeBus(fail = false) {
  const published: Published[] = [];
  return {
    published,
    publish: async (exchange: string, _key: string, body: unknown) => {
      if (fail) throw new Error('broker unavailable');
      published.push({ exchange, body: body as Published['body'] });
    },
  };
}

async function droppedCount(registry: Registry): Promise<number> {
  const metric = await registry.getSingleMetric('stacklink_gateway_delivery_records_dropped_total')?.get();
  return (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0);
}

describe('the gateway delivery recorder', () => {
  const logger = createSilentLogger();

  it('sends the records of many deliveries as one message, without bodies or signatures', async () => {
    const bus = fakeBus();
    const recorder = createBusDeliveryRecorder(
      bus,
      { registry: new Registry(), logger },
      { flushIntervalMs: 20 },
    );
    recorder.record(delivery(1), { kind: 'accepted', eventId: 'e-1' });
    recorder.record(delivery(2), { kind: 'refused', reason: 'signature', details: 'mismatch' });
    recorder.record(delivery(3), { kind: 'duplicate' });
    await waitFor(() => bus.published.length === 1, { timeoutMs: 2000, message: 'no batch was sent' });
    await recorder.stop();
    expect(bus.published).to.have.length(1);
    expect(bus.published[0]!.exchange).to.equal('deliveries');
    expect(bus.published[0]!.body.records).to.deep.equal([
      {
        deliveryId: 'd-1',
        integrationId: 'int-1',
        eventKey: 'repo:refs_changed',
        receivedAt: '2026-01-01T00:00:01.000Z',
        status: 202,
        outcome: 'accepted',
        eventId: 'e-1',
      },
      {
        deliveryId: 'd-2',
        integrationId: 'int-1',
        eventKey: 'repo:refs_changed',
        receivedAt: '2026-01-01T00:00:02.000Z',
        status: 401,
        outcome: 'invalid_signature',
        reason: 'signature mismatch',
      },
      {
        deliveryId: 'd-3',
        integrationId: 'int-1',
        eventKey: 'repo:refs_changed',
        receivedAt: '2026-01-01T00:00:03.000Z',
        status: 200,
        outcome: 'duplicate',
        reason: 'X-Request-Id already accepted',
      },
    ]);
    expect(JSON.stringify(bus.published)).to.not.contain('stacks/network').and.to.not.contain('sha256');
  });

  it('counts the records a broker outage could not carry as dropped, and never retries them', async () => {
    const bus = fakeBus(true);
    const registry = new Registry();
    const recorder = createBusDeliveryRecorder(bus, { registry, logger }, { flushIntervalMs: 10_000 });
    recorder.record(delivery(1), { kind: 'ping' });
    recorder.record(delivery(2), { kind: 'ping' });
    await recorder.flush();
    await recorder.flush();
    expect(await droppedCount(registry)).to.equal(2);
    await recorder.stop();
  });

  it('keeps memory bounded: beyond the buffer, records are dropped and counted', async () => {
    const bus = fakeBus();
    const registry = new Registry();
    const recorder = createBusDeliveryRecorder(
      bus,
      { registry, logger },
      { flushIntervalMs: 10_000, maxBuffered: 3, maxBatch: 100 },
    );
    for (let i = 0; i < 5; i += 1) recorder.record(delivery(i), { kind: 'ping' });
    expect(await droppedCount(registry)).to.equal(2);
    await recorder.stop();
    expect(bus.published.flatMap((p) => p.body.records.map((r) => r.deliveryId))).to.deep.equal([
      'd-0',
      'd-1',
      'd-2',
    ]);
  });

  it('sends a full batch at once, without waiting for the timer', async () => {
    const bus = fakeBus();
    const recorder = createBusDeliveryRecorder(
      bus,
      { registry: new Registry(), logger },
      { flushIntervalMs: 60_000, maxBatch: 2 },
    );
    recorder.record(delivery(1), { kind: 'ping' });
    recorder.record(delivery(2), { kind: 'ping' });
    await waitFor(() => bus.published.length === 1, { timeoutMs: 2000, message: 'the full batch waited' });
    await recorder.stop();
  });
});
