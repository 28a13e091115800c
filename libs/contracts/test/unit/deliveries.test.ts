import { expect } from 'chai';
import { validateDeliveryRecords, type DeliveryRecord } from '../../src';

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
});
