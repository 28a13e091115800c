import { expect } from 'chai';
import { deliveryRecord, validateDeliveryRecords, type DeliveryRecord } from '../../src';

const record: DeliveryRecord = {
  deliveryId: 'd-1',
  integrationId: 'int-1',
  eventKey: 'repo:refs_changed',
  receivedAt: '2026-01-01T00:00:00.000Z',
  status: 401,
  outcome: 'invalid_signature',
  reason: 'signature mismatch',
};

describe('delivery records messages', () => {
  it('accepts a batch of records as the gateway sends it', () => {
    const message = validateDeliveryRecords({ specVersion: 1, records: [record] }, 'producer');
    expect(message.records).to.deep.equal([record]);
  });

  it('refuses, as producer, a record that carries anything more, such as a body', () => {
    expect(() =>
      validateDeliveryRecords({ specVersion: 1, records: [{ ...record, body: '{}' }] }, 'producer'),
    ).to.throw(/records\[0\]\.body/);
  });

  it('names the field of a record that breaks the contract', () => {
    for (const [bad, field] of [
      [{ ...record, outcome: 'exploded' }, 'outcome'],
      [{ ...record, status: 99 }, 'status'],
      [{ ...record, deliveryId: 'x'.repeat(256) }, 'deliveryId'],
      [{ ...record, receivedAt: 'yesterday' }, 'receivedAt'],
    ] as const) {
      expect(() => validateDeliveryRecords({ specVersion: 1, records: [bad] }, 'consumer')).to.throw(
        new RegExp(`records\\[0\\]\\.${field}`),
      );
    }
  });

  it('refuses an empty batch', () => {
    expect(() => validateDeliveryRecords({ specVersion: 1, records: [] }, 'consumer')).to.throw(/records/);
  });

  it('builds records that conform by construction, whatever a sender put in the headers', () => {
    const built = deliveryRecord({
      deliveryId: 'd'.repeat(10_000),
      integrationId: 'int-1',
      eventKey: 'k'.repeat(10_000),
      scope: 's'.repeat(10_000),
      receivedAt: new Date(0),
      status: 400,
      outcome: 'invalid_payload',
      reason: 'r'.repeat(10_000),
      eventId: undefined,
    });
    expect(() => validateDeliveryRecords({ specVersion: 1, records: [built] }, 'producer')).to.not.throw();
    expect(built.deliveryId).to.have.length(255);
    const bare = deliveryRecord({
      deliveryId: undefined,
      integrationId: 'int-1',
      eventKey: undefined,
      receivedAt: new Date(0),
      status: 400,
      outcome: 'missing_event_key',
    });
    expect(bare).to.deep.equal({
      deliveryId: '',
      integrationId: 'int-1',
      eventKey: '',
      receivedAt: '1970-01-01T00:00:00.000Z',
      status: 400,
      outcome: 'missing_event_key',
    });
    expect(() => validateDeliveryRecords({ specVersion: 1, records: [bare] }, 'producer')).to.not.throw();
  });
});
