import { Schema, type Connection } from 'mongoose';
import type { SeenHeadsPort, WebhookHealthRecord, WebhookHealthRepositoryPort } from '../../domain/ports';
import { seenHeadsKey } from '../sqlite/sqlite-webhook-state';

interface HealthDoc {
  _id: string;
  integrationId: string;
  scope: string;
  health: WebhookHealthRecord['health'];
  detail: string;
  lastFailure?: string | null;
  checkedAt: string;
}

interface SeenHeadDoc {
  _id: string;
  repoKey: string;
  headKey: string;
  commit: string;
}

const healthSchema = new Schema<HealthDoc>(
  {
    _id: { type: String, required: true },
    integrationId: { type: String, required: true, index: true },
    scope: { type: String, required: true },
    health: { type: String, required: true },
    detail: { type: String, required: true },
    lastFailure: { type: String },
    checkedAt: { type: String, required: true },
  },
  { versionKey: false, collection: 'stack_trigger_webhook_health' },
);

const seenHeadSchema = new Schema<SeenHeadDoc>(
  {
    _id: { type: String, required: true },
    repoKey: { type: String, required: true, index: true },
    headKey: { type: String, required: true },
    commit: { type: String, required: true },
  },
  { versionKey: false, collection: 'stack_trigger_seen_heads' },
);

/** MongoDB twins of the SQLite webhook health and seen heads (docs/architecture.md §3, §14). */
export async function createMongoWebhookState(
  connection: Connection,
): Promise<{ webhookHealth: WebhookHealthRepositoryPort; seenHeads: SeenHeadsPort }> {
  const Health = connection.model<HealthDoc>('StackTriggerWebhookHealth', healthSchema);
  const Seen = connection.model<SeenHeadDoc>('StackTriggerSeenHead', seenHeadSchema);
  await Promise.all([Health.syncIndexes(), Seen.syncIndexes()]);
  const id = (integrationId: string, scope: string) => `${integrationId}\u0000${scope}`;
  return {
    webhookHealth: {
      async save(r) {
        await Health.replaceOne(
          { _id: id(r.integrationId, r.scope) },
          {
            _id: id(r.integrationId, r.scope),
            integrationId: r.integrationId,
            scope: r.scope,
            health: r.health,
            detail: r.detail,
            ...(r.lastFailure === undefined ? {} : { lastFailure: r.lastFailure }),
            checkedAt: r.checkedAt,
          },
          { upsert: true },
        );
      },
      async list(integrationId) {
        const docs = await Health.find({ integrationId }).sort({ scope: 1 }).lean<HealthDoc[]>();
        return docs.map((d) => ({
          integrationId: d.integrationId,
          scope: d.scope,
          health: d.health,
          detail: d.detail,
          ...(typeof d.lastFailure === 'string' ? { lastFailure: d.lastFailure } : {}),
          checkedAt: d.checkedAt,
        }));
      },
      async remove(integrationId, scope) {
        await Health.deleteOne({ _id: id(integrationId, scope) });
      },
    },
    seenHeads: {
      async record(integrationId, repository, heads) {
        const repoKey = seenHeadsKey(integrationId, repository);
        if (heads.length === 0) return;
        await Seen.bulkWrite(
          heads.map((h) => ({
            replaceOne: {
              filter: { _id: `${repoKey}\u0000${h.key}` },
              replacement: { _id: `${repoKey}\u0000${h.key}`, repoKey, headKey: h.key, commit: h.commit },
              upsert: true,
            },
          })),
        );
      },
      async list(integrationId, repository) {
        const docs = await Seen.find({ repoKey: seenHeadsKey(integrationId, repository) }).lean<
          SeenHeadDoc[]
        >();
        return new Map(docs.map((d) => [d.headKey, d.commit]));
      },
    },
  };
}
