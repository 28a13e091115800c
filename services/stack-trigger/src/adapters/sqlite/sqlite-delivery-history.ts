import type Database from 'better-sqlite3';
import {
  deliveryRecordId,
  recordOfDecision,
  type DeliveryDecision,
  type DeliveryRecord,
  type StoredDeliveryRecord,
} from '../../domain/delivery-history';
import type { DeliveryHistoryPort } from '../../domain/ports';

/**
 * The delivery history tables (docs/architecture.md §13), with an index for each filter of
 * `GET /deliveries` (all newest first) and for the retention sweep.
 */
export const DELIVERY_HISTORY_MIGRATION = `
  CREATE TABLE stack_trigger_delivery_records (
    id TEXT PRIMARY KEY,
    delivery_id TEXT NOT NULL,
    integration_id TEXT NOT NULL,
    event_key TEXT NOT NULL,
    scope TEXT,
    received_at TEXT NOT NULL,
    status INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT,
    event_id TEXT,
    project_key TEXT,
    slug TEXT
  );
  CREATE INDEX stack_trigger_delivery_records_by_time ON stack_trigger_delivery_records (received_at, id);
  CREATE INDEX stack_trigger_delivery_records_by_integration
    ON stack_trigger_delivery_records (integration_id, received_at, id);
  CREATE INDEX stack_trigger_delivery_records_by_repository
    ON stack_trigger_delivery_records (project_key, slug, received_at, id);
  CREATE INDEX stack_trigger_delivery_records_by_outcome
    ON stack_trigger_delivery_records (outcome, received_at, id);
  CREATE INDEX stack_trigger_delivery_records_by_delivery ON stack_trigger_delivery_records (delivery_id);
  CREATE TABLE stack_trigger_delivery_decisions (
    event_id TEXT PRIMARY KEY,
    delivery_id TEXT NOT NULL,
    integration_id TEXT NOT NULL,
    project_key TEXT NOT NULL,
    slug TEXT NOT NULL,
    received_at TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    doc TEXT NOT NULL
  );
  CREATE INDEX stack_trigger_delivery_decisions_by_delivery ON stack_trigger_delivery_decisions (delivery_id);
  CREATE INDEX stack_trigger_delivery_decisions_by_integration
    ON stack_trigger_delivery_decisions (integration_id, received_at);
  CREATE INDEX stack_trigger_delivery_decisions_by_time ON stack_trigger_delivery_decisions (received_at);
`;

interface RecordRow {
  id: string;
  delivery_id: string;
  integration_id: string;
  event_key: string;
  scope: string | null;
  received_at: string;
  status: number;
  outcome: DeliveryRecord['outcome'];
  reason: string | null;
  event_id: string | null;
  project_key: string | null;
  slug: string | null;
}

function toRecord(row: RecordRow): StoredDeliveryRecord {
  return {
    id: row.id,
    deliveryId: row.delivery_id,
    integrationId: row.integration_id,
    eventKey: row.event_key,
    ...(row.scope === null ? {} : { scope: row.scope }),
    receivedAt: row.received_at,
    status: row.status,
    outcome: row.outcome,
    ...(row.reason === null ? {} : { reason: row.reason }),
    ...(row.event_id === null ? {} : { eventId: row.event_id }),
    ...(row.project_key === null || row.slug === null
      ? {}
      : { repository: { projectKey: row.project_key, slug: row.slug } }),
  };
}

/** Timestamps are stored as ISO strings; comparing them as text orders them only in one format. */
function iso(value: string): string {
  return new Date(value).toISOString();
}

export function createSqliteDeliveryHistory(db: Database.Database): DeliveryHistoryPort {
  // A gateway record of an accepted delivery replaces the stand-in of its decision (same id), keeping
  // the repository the decision named.
  const upsertRecord = db.prepare(`
    INSERT INTO stack_trigger_delivery_records
      (id, delivery_id, integration_id, event_key, scope, received_at, status, outcome, reason, event_id,
       project_key, slug)
    VALUES (@id, @deliveryId, @integrationId, @eventKey, @scope, @receivedAt, @status, @outcome, @reason,
       @eventId,
       (SELECT project_key FROM stack_trigger_delivery_decisions WHERE event_id = @eventId),
       (SELECT slug FROM stack_trigger_delivery_decisions WHERE event_id = @eventId))
    ON CONFLICT (id) DO UPDATE SET
      event_key = excluded.event_key, scope = excluded.scope, received_at = excluded.received_at,
      status = excluded.status, reason = excluded.reason`);
  const insertStandIn = db.prepare(`
    INSERT INTO stack_trigger_delivery_records
      (id, delivery_id, integration_id, event_key, scope, received_at, status, outcome, reason, event_id,
       project_key, slug)
    VALUES (@id, @deliveryId, @integrationId, @eventKey, NULL, @receivedAt, @status, @outcome, NULL, @eventId,
       @projectKey, @slug)
    ON CONFLICT (id) DO UPDATE SET project_key = excluded.project_key, slug = excluded.slug`);
  const upsertDecision = db.prepare(`
    INSERT INTO stack_trigger_delivery_decisions
      (event_id, delivery_id, integration_id, project_key, slug, received_at, decided_at, doc)
    VALUES (@eventId, @deliveryId, @integrationId, @projectKey, @slug, @receivedAt, @decidedAt, @doc)
    ON CONFLICT (event_id) DO UPDATE SET decided_at = excluded.decided_at, doc = excluded.doc`);
  const recordsOf = db.prepare(
    'SELECT * FROM stack_trigger_delivery_records WHERE delivery_id = ? ORDER BY received_at, id',
  );
  const decisionsOf = db.prepare(
    'SELECT doc FROM stack_trigger_delivery_decisions WHERE delivery_id = ? ORDER BY decided_at, event_id',
  );

  const saveRecords = db.transaction((records: readonly DeliveryRecord[]) => {
    for (const r of records) {
      upsertRecord.run({
        id: deliveryRecordId(r),
        deliveryId: r.deliveryId,
        integrationId: r.integrationId,
        eventKey: r.eventKey,
        scope: r.scope ?? null,
        receivedAt: iso(r.receivedAt),
        status: r.status,
        outcome: r.outcome,
        reason: r.reason ?? null,
        eventId: r.eventId ?? null,
      });
    }
  });
  const saveDecision = db.transaction((d: DeliveryDecision) => {
    upsertDecision.run({
      eventId: d.eventId,
      deliveryId: d.deliveryId,
      integrationId: d.integrationId,
      projectKey: d.repository.projectKey,
      slug: d.repository.slug,
      receivedAt: iso(d.receivedAt),
      decidedAt: d.decidedAt,
      doc: JSON.stringify(d),
    });
    if (d.redeliveryOf !== undefined) return;
    const r = recordOfDecision(d);
    insertStandIn.run({
      id: deliveryRecordId(r),
      deliveryId: r.deliveryId,
      integrationId: r.integrationId,
      eventKey: r.eventKey,
      receivedAt: iso(r.receivedAt),
      status: r.status,
      outcome: r.outcome,
      eventId: r.eventId ?? null,
      projectKey: d.repository.projectKey,
      slug: d.repository.slug,
    });
  });

  return {
    saveRecords: async (records) => {
      if (records.length > 0) saveRecords(records);
    },
    saveDecision: async (decision) => {
      saveDecision(decision);
    },
    list: async (filter) => {
      const where: string[] = [];
      const params: Record<string, string | number> = {};
      if (filter.integrationId !== undefined) {
        where.push('integration_id = @integrationId');
        params.integrationId = filter.integrationId;
      }
      if (filter.projectKey !== undefined) {
        where.push('project_key = @projectKey');
        params.projectKey = filter.projectKey;
      }
      if (filter.slug !== undefined) {
        where.push('slug = @slug');
        params.slug = filter.slug;
      }
      if (filter.outcome !== undefined) {
        where.push('outcome = @outcome');
        params.outcome = filter.outcome;
      }
      if (filter.since !== undefined) {
        where.push('received_at >= @since');
        params.since = iso(filter.since);
      }
      if (filter.after !== undefined) {
        where.push('(received_at < @afterAt OR (received_at = @afterAt AND id < @afterId))');
        params.afterAt = iso(filter.after.receivedAt);
        params.afterId = filter.after.id;
      }
      params.limit = filter.limit + 1;
      const rows = db
        .prepare(
          `SELECT * FROM stack_trigger_delivery_records ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
           ORDER BY received_at DESC, id DESC LIMIT @limit`,
        )
        .all(params) as RecordRow[];
      return { records: rows.slice(0, filter.limit).map(toRecord), hasMore: rows.length > filter.limit };
    },
    get: async (deliveryId) => ({
      records: (recordsOf.all(deliveryId) as RecordRow[]).map(toRecord),
      decisions: (decisionsOf.all(deliveryId) as { doc: string }[]).map(
        (row) => JSON.parse(row.doc) as DeliveryDecision,
      ),
    }),
    prune: async ({ olderThan, maxPerIntegration, batchSize }) => {
      let deleted = 0;
      const deleteBatch = (sql: string, params: unknown[]): void => {
        // One short statement at a time, so other writers (the trigger workers) get the file between them.
        for (;;) {
          const changes = db.prepare(sql).run(...params, batchSize).changes;
          deleted += changes;
          if (changes < batchSize) return;
        }
      };
      const cutoff = olderThan.toISOString();
      deleteBatch(
        `DELETE FROM stack_trigger_delivery_records WHERE id IN
           (SELECT id FROM stack_trigger_delivery_records WHERE received_at < ? LIMIT ?)`,
        [cutoff],
      );
      deleteBatch(
        `DELETE FROM stack_trigger_delivery_decisions WHERE event_id IN
           (SELECT event_id FROM stack_trigger_delivery_decisions WHERE received_at < ? LIMIT ?)`,
        [cutoff],
      );
      const crowded = db
        .prepare(
          `SELECT integration_id AS integrationId FROM stack_trigger_delivery_records
           GROUP BY integration_id HAVING COUNT(*) > ?`,
        )
        .all(maxPerIntegration) as { integrationId: string }[];
      for (const { integrationId } of crowded) {
        const oldestKept = db
          .prepare(
            `SELECT received_at AS receivedAt, id FROM stack_trigger_delivery_records WHERE integration_id = ?
             ORDER BY received_at DESC, id DESC LIMIT 1 OFFSET ?`,
          )
          .get(integrationId, maxPerIntegration - 1) as { receivedAt: string; id: string } | undefined;
        if (oldestKept === undefined) continue;
        deleteBatch(
          `DELETE FROM stack_trigger_delivery_records WHERE id IN
             (SELECT id FROM stack_trigger_delivery_records WHERE integration_id = ?
              AND (received_at < ? OR (received_at = ? AND id < ?)) LIMIT ?)`,
          [integrationId, oldestKept.receivedAt, oldestKept.receivedAt, oldestKept.id],
        );
        deleteBatch(
          `DELETE FROM stack_trigger_delivery_decisions WHERE event_id IN
             (SELECT event_id FROM stack_trigger_delivery_decisions WHERE integration_id = ?
              AND received_at < ? LIMIT ?)`,
          [integrationId, oldestKept.receivedAt],
        );
      }
      return deleted;
    },
  };
}
