import type { Connection } from 'mongoose';
import {
  deliveryRecordId,
  recordOfDecision,
  type DeliveryDecision,
  type DeliveryRecord,
  type StoredDeliveryRecord,
} from '../../domain/delivery-history';
import type { DeliveryHistoryPort } from '../../domain/ports';

interface RecordDoc {
  _id: string;
  deliveryId: string;
  integrationId: string;
  eventKey: string;
  scope?: string;
  receivedAt: string;
  status: number;
  outcome: DeliveryRecord['outcome'];
  reason?: string;
  eventId?: string;
  projectKey?: string;
  slug?: string;
}

interface DecisionDoc {
  _id: string;
  deliveryId: string;
  integrationId: string;
  projectKey: string;
  slug: string;
  receivedAt: string;
  decidedAt: string;
  decision: DeliveryDecision;
}

function toRecord(doc: RecordDoc): StoredDeliveryRecord {
  return {
    id: doc._id,
    deliveryId: doc.deliveryId,
    integrationId: doc.integrationId,
    eventKey: doc.eventKey,
    ...(doc.scope == null ? {} : { scope: doc.scope }),
    receivedAt: doc.receivedAt,
    status: doc.status,
    outcome: doc.outcome,
    ...(doc.reason == null ? {} : { reason: doc.reason }),
    ...(doc.eventId == null ? {} : { eventId: doc.eventId }),
    ...(doc.projectKey == null || doc.slug == null
      ? {}
      : { repository: { projectKey: doc.projectKey, slug: doc.slug } }),
  };
}

function iso(value: string): string {
  return new Date(value).toISOString();
}

/**
 * The delivery history in MongoDB (docs/architecture.md §13): the same behaviour as the SQLite tables,
 * with an index for each filter of `GET /deliveries` (newest first) and for the retention sweep.
 */
export async function createMongoDeliveryHistory(connection: Connection): Promise<DeliveryHistoryPort> {
  const records = connection.collection<RecordDoc>('stack_trigger_delivery_records');
  const decisions = connection.collection<DecisionDoc>('stack_trigger_delivery_decisions');
  await Promise.all([
    records.createIndexes([
      { key: { receivedAt: -1, _id: -1 } },
      { key: { integrationId: 1, receivedAt: -1, _id: -1 } },
      { key: { projectKey: 1, slug: 1, receivedAt: -1, _id: -1 } },
      { key: { outcome: 1, receivedAt: -1, _id: -1 } },
      { key: { deliveryId: 1 } },
    ]),
    decisions.createIndexes([
      { key: { deliveryId: 1 } },
      { key: { integrationId: 1, receivedAt: 1 } },
      { key: { receivedAt: 1 } },
    ]),
  ]);

  async function deleteInBatches(
    collection: typeof records | typeof decisions,
    filter: Record<string, unknown>,
    batchSize: number,
  ): Promise<number> {
    let deleted = 0;
    for (;;) {
      const ids = (await collection.find(filter, { projection: { _id: 1 }, limit: batchSize }).toArray()).map(
        (d) => d._id,
      );
      if (ids.length === 0) return deleted;
      deleted += (await collection.deleteMany({ _id: { $in: ids } })).deletedCount;
      if (ids.length < batchSize) return deleted;
    }
  }

  return {
    saveRecords: async (batch) => {
      if (batch.length === 0) return;
      const eventIds = batch.flatMap((r) => (r.eventId === undefined ? [] : [r.eventId]));
      const known = new Map(
        (
          await decisions
            .find({ _id: { $in: eventIds } }, { projection: { projectKey: 1, slug: 1 } })
            .toArray()
        ).map((d) => [d._id, d]),
      );
      await records.bulkWrite(
        batch.map((r) => {
          const id = deliveryRecordId(r);
          const fields = {
            deliveryId: r.deliveryId,
            integrationId: r.integrationId,
            eventKey: r.eventKey,
            receivedAt: iso(r.receivedAt),
            status: r.status,
            outcome: r.outcome,
            ...(r.scope === undefined ? {} : { scope: r.scope }),
            ...(r.reason === undefined ? {} : { reason: r.reason }),
            ...(r.eventId === undefined ? {} : { eventId: r.eventId }),
          };
          const decided = r.eventId === undefined ? undefined : known.get(r.eventId);
          return {
            updateOne: {
              filter: { _id: id },
              update: {
                $set: fields,
                ...(decided === undefined
                  ? {}
                  : { $setOnInsert: { projectKey: decided.projectKey, slug: decided.slug } }),
              },
              upsert: true,
            },
          };
        }),
        { ordered: false },
      );
    },
    saveDecision: async (d) => {
      const receivedAt = iso(d.receivedAt);
      await decisions.updateOne(
        { _id: d.eventId },
        {
          $set: {
            deliveryId: d.deliveryId,
            integrationId: d.integrationId,
            projectKey: d.repository.projectKey,
            slug: d.repository.slug,
            receivedAt,
            decidedAt: d.decidedAt,
            decision: d,
          },
        },
        { upsert: true },
      );
      if (d.redeliveryOf !== undefined) return;
      const r = recordOfDecision(d);
      await records.updateOne(
        { _id: deliveryRecordId(r) },
        {
          $set: { projectKey: d.repository.projectKey, slug: d.repository.slug },
          $setOnInsert: {
            deliveryId: r.deliveryId,
            integrationId: r.integrationId,
            eventKey: r.eventKey,
            receivedAt,
            status: r.status,
            outcome: r.outcome,
            ...(r.eventId === undefined ? {} : { eventId: r.eventId }),
          },
        },
        { upsert: true },
      );
    },
    list: async (filter) => {
      const query: Record<string, unknown> = {};
      if (filter.integrationId !== undefined) query.integrationId = filter.integrationId;
      if (filter.projectKey !== undefined) query.projectKey = filter.projectKey;
      if (filter.slug !== undefined) query.slug = filter.slug;
      if (filter.outcome !== undefined) query.outcome = filter.outcome;
      const and: Record<string, unknown>[] = [];
      if (filter.since !== undefined) and.push({ receivedAt: { $gte: iso(filter.since) } });
      if (filter.after !== undefined) {
        const at = iso(filter.after.receivedAt);
        and.push({ $or: [{ receivedAt: { $lt: at } }, { receivedAt: at, _id: { $lt: filter.after.id } }] });
      }
      if (and.length > 0) query.$and = and;
      const docs = await records
        .find(query)
        .sort({ receivedAt: -1, _id: -1 })
        .limit(filter.limit + 1)
        .toArray();
      return { records: docs.slice(0, filter.limit).map(toRecord), hasMore: docs.length > filter.limit };
    },
    get: async (deliveryId) => ({
      records: (await records.find({ deliveryId }).sort({ receivedAt: 1, _id: 1 }).toArray()).map(toRecord),
      decisions: (await decisions.find({ deliveryId }).sort({ decidedAt: 1, _id: 1 }).toArray()).map(
        (d) => d.decision,
      ),
    }),
    prune: async ({ olderThan, maxPerIntegration, batchSize }) => {
      const cutoff = olderThan.toISOString();
      let deleted = await deleteInBatches(records, { receivedAt: { $lt: cutoff } }, batchSize);
      deleted += await deleteInBatches(decisions, { receivedAt: { $lt: cutoff } }, batchSize);
      const crowded = await records
        .aggregate<{ _id: string }>([
          { $group: { _id: '$integrationId', count: { $sum: 1 } } },
          { $match: { count: { $gt: maxPerIntegration } } },
        ])
        .toArray();
      for (const { _id: integrationId } of crowded) {
        const [oldestKept] = await records
          .find({ integrationId }, { projection: { receivedAt: 1 } })
          .sort({ receivedAt: -1, _id: -1 })
          .skip(maxPerIntegration - 1)
          .limit(1)
          .toArray();
        if (oldestKept === undefined) continue;
        deleted += await deleteInBatches(
          records,
          {
            integrationId,
            $or: [
              { receivedAt: { $lt: oldestKept.receivedAt } },
              { receivedAt: oldestKept.receivedAt, _id: { $lt: oldestKept._id } },
            ],
          },
          batchSize,
        );
        deleted += await deleteInBatches(
          decisions,
          { integrationId, receivedAt: { $lt: oldestKept.receivedAt } },
          batchSize,
        );
      }
      return deleted;
    },
  };
}
