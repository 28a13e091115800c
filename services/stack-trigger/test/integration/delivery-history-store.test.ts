import { expect } from 'chai';
import type { Store } from '../../src/adapters/store';
import type { DeliveryDecision, DeliveryRecord } from '../../src/domain/delivery-history';
import { describeEachStore } from '../support/each-store';
import { pushEvent } from '../support/events';

const AT = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString();

const record = (overrides: Partial<DeliveryRecord> = {}): DeliveryRecord => ({
  deliveryId: 'd-1',
  integrationId: 'int-1',
  eventKey: 'repo:refs_changed',
  receivedAt: AT(1),
  status: 401,
  outcome: 'invalid_signature',
  reason: 'signature mismatch',
  ...overrides,
});

function decision(overrides: Partial<DeliveryDecision> = {}): DeliveryDecision {
  const event = { ...pushEvent(), id: overrides.eventId ?? 'e-1', deliveryId: overrides.deliveryId ?? 'd-9' };
  return {
    eventId: event.id,
    deliveryId: event.deliveryId,
    integrationId: 'int-1',
    repository: { projectKey: 'PRJ', slug: 'infra' },
    type: 'push',
    receivedAt: AT(5),
    decidedAt: AT(6),
    summary: 'push to PRJ/infra',
    event,
    stacks: [{ stackId: 's-1', outcome: 'run-created', runId: 'r-1' }],
    runIds: ['r-1'],
    bitbucketCalls: ['GET changes'],
    ...overrides,
  };
}

/** The same delivery history from every store (docs/architecture.md §3, §13): one suite, each adapter. */
function deliveryHistoryContract(open: () => Promise<Store>): void {
  let store: Store;
  beforeEach(async () => {
    store = await open();
  });
  afterEach(async () => {
    await store.close();
  });

  it('stores a records message delivered twice once', async () => {
    const batch = [record(), record({ deliveryId: 'd-2', outcome: 'duplicate', status: 200 })];
    await store.deliveries.saveRecords(batch);
    await store.deliveries.saveRecords(batch);
    const page = await store.deliveries.list({ limit: 10 });
    expect(page.records.map((r) => r.deliveryId).sort()).to.deep.equal(['d-1', 'd-2']);
  });

  it('lists newest first and pages without skipping or repeating a record of the same instant', async () => {
    await store.deliveries.saveRecords(
      Array.from({ length: 7 }, (_, i) => record({ deliveryId: `d-${i}`, receivedAt: AT(i < 4 ? 1 : i) })),
    );
    const seen: string[] = [];
    let after: { receivedAt: string; id: string } | undefined;
    for (let pages = 0; pages < 10; pages += 1) {
      const page = await store.deliveries.list({ limit: 3, ...(after ? { after } : {}) });
      seen.push(...page.records.map((r) => r.deliveryId));
      const last = page.records.at(-1);
      if (!page.hasMore || last === undefined) break;
      after = { receivedAt: last.receivedAt, id: last.id };
    }
    expect(seen.slice(0, 3)).to.deep.equal(['d-6', 'd-5', 'd-4']);
    expect([...seen].sort()).to.deep.equal(['d-0', 'd-1', 'd-2', 'd-3', 'd-4', 'd-5', 'd-6']);
  });

  it('filters by integration, outcome, repository and time', async () => {
    await store.deliveries.saveRecords([
      record({ deliveryId: 'a', integrationId: 'int-1', receivedAt: AT(1) }),
      record({ deliveryId: 'b', integrationId: 'int-2', receivedAt: AT(2) }),
      record({ deliveryId: 'c', outcome: 'ping', status: 200, receivedAt: AT(3) }),
    ]);
    await store.deliveries.saveDecision(decision({ eventId: 'e-1', deliveryId: 'd-9' }));
    const ids = async (filter: Parameters<Store['deliveries']['list']>[0]) =>
      (await store.deliveries.list(filter)).records.map((r) => r.deliveryId);
    expect(await ids({ limit: 10, integrationId: 'int-2' })).to.deep.equal(['b']);
    expect(await ids({ limit: 10, outcome: 'ping' })).to.deep.equal(['c']);
    expect(await ids({ limit: 10, since: AT(2) })).to.deep.equal(['d-9', 'c', 'b']);
    expect(await ids({ limit: 10, projectKey: 'PRJ', slug: 'infra' })).to.deep.equal(['d-9']);
    expect(await ids({ limit: 10, projectKey: 'OTHER' })).to.deep.equal([]);
  });

  it('lets a decision stand in for the gateway record of its delivery until that arrives, then keeps one', async () => {
    await store.deliveries.saveDecision(decision());
    let entry = await store.deliveries.get('d-9');
    expect(entry.records.map((r) => [r.outcome, r.eventId, r.repository?.slug])).to.deep.equal([
      ['accepted', 'e-1', 'infra'],
    ]);
    await store.deliveries.saveRecords([
      record({ deliveryId: 'd-9', outcome: 'accepted', status: 202, eventId: 'e-1', reason: undefined }),
    ]);
    entry = await store.deliveries.get('d-9');
    expect(entry.records).to.have.length(1);
    expect(entry.records[0]).to.deep.include({ outcome: 'accepted', status: 202, eventId: 'e-1' });
    expect(entry.records[0]!.repository).to.deep.equal({ projectKey: 'PRJ', slug: 'infra' });
  });

  it('gives a gateway record that arrives first the repository of the decision that follows', async () => {
    await store.deliveries.saveRecords([
      record({ deliveryId: 'd-9', outcome: 'accepted', status: 202, eventId: 'e-1', reason: undefined }),
    ]);
    await store.deliveries.saveDecision(decision());
    const page = await store.deliveries.list({ limit: 10, projectKey: 'PRJ', slug: 'infra' });
    expect(page.records.map((r) => [r.deliveryId, r.eventKey])).to.deep.equal([['d-9', 'repo:refs_changed']]);
  });

  it('replaces the decision of an event decided again, and keeps a redelivery beside the original', async () => {
    await store.deliveries.saveDecision(decision());
    await store.deliveries.saveDecision(decision({ stacks: [], runIds: [], decidedAt: AT(7) }));
    await store.deliveries.saveDecision(decision({ eventId: 'e-2', redeliveryOf: 'e-1', decidedAt: AT(8) }));
    const entry = await store.deliveries.get('d-9');
    expect(entry.decisions.map((d) => [d.eventId, d.redeliveryOf, d.runIds])).to.deep.equal([
      ['e-1', undefined, []],
      ['e-2', 'e-1', ['r-1']],
    ]);
    expect(entry.decisions[0]!.event.id).to.equal('e-1');
    // A redelivery is no new delivery: still one record.
    expect(entry.records).to.have.length(1);
  });

  it('answers nothing for a delivery it never saw', async () => {
    expect(await store.deliveries.get('nope')).to.deep.equal({ records: [], decisions: [] });
  });

  it('prunes what is older than the retention and all but the newest records of a crowded integration', async () => {
    await store.deliveries.saveRecords([
      record({ deliveryId: 'old', receivedAt: AT(1) }),
      ...Array.from({ length: 5 }, (_, i) => record({ deliveryId: `n-${i}`, receivedAt: AT(10 + i) })),
      record({ deliveryId: 'other', integrationId: 'int-2', receivedAt: AT(10) }),
    ]);
    await store.deliveries.saveDecision(decision({ receivedAt: AT(2) }));
    const deleted = await store.deliveries.prune({
      olderThan: new Date(AT(5)),
      maxPerIntegration: 3,
      batchSize: 1,
    });
    const left = (await store.deliveries.list({ limit: 100 })).records.map((r) => r.deliveryId);
    expect(left).to.deep.equal(['n-4', 'n-3', 'n-2', 'other']);
    expect((await store.deliveries.get('d-9')).decisions).to.deep.equal([]);
    // old, d-9's record and decision, n-0, n-1.
    expect(deleted).to.equal(5);
  });
}

describeEachStore('delivery history store contract', deliveryHistoryContract);
