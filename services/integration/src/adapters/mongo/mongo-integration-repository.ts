import mongoose, { Schema, type Connection, type Model } from 'mongoose';
import { nameTaken } from '../../domain/integration-errors';
import type { IntegrationRecord, IntegrationRepositoryPort } from '../../domain/ports';

interface IntegrationDoc {
  _id: string;
  name: string;
  apiHost: string;
  userFacingHost: string;
  username: string;
  description?: string | null;
  labels: string[];
  tls?: { caCertificate?: string | null } | null;
  webhooks?: { mode?: string | null; scope?: string | null } | null;
  secrets: {
    accessToken: string;
    webhookSecret: string;
    previousWebhookSecret?: string | null;
    oauthClientSecret?: string | null;
  };
  previousWebhookSecretValidUntil?: string | null;
  oauth?: { clientId?: string | null } | null;
  revision: number;
  createdAt: string;
  updatedAt: string;
}

const integrationSchema = new Schema<IntegrationDoc>(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    apiHost: { type: String, required: true },
    userFacingHost: { type: String, required: true },
    username: { type: String, required: true },
    description: { type: String },
    labels: { type: [String], default: [] },
    tls: { caCertificate: { type: String } },
    webhooks: { mode: { type: String }, scope: { type: String } },
    secrets: {
      accessToken: { type: String, required: true },
      webhookSecret: { type: String, required: true },
      previousWebhookSecret: { type: String },
      oauthClientSecret: { type: String },
    },
    previousWebhookSecretValidUntil: { type: String },
    oauth: { clientId: { type: String } },
    revision: { type: Number, required: true },
    createdAt: { type: String, required: true },
    updatedAt: { type: String, required: true },
  },
  { versionKey: false, autoIndex: false, strict: 'throw' },
);
integrationSchema.index({ name: 1 }, { unique: true, name: 'integration_name_unique' });
integrationSchema.index({ createdAt: 1, _id: 1 }, { name: 'integration_created' });

export interface MongoIntegrationRepository extends IntegrationRepositoryPort {
  /** Removes the collection (contract tests run each suite on a collection of their own). */
  dropCollection(): Promise<void>;
}

export interface MongoRepositoryOptions {
  /** Collection name; `integrations` unless a test isolates itself. */
  collection?: string;
  serverSelectionTimeoutMs?: number;
}

/**
 * The production store (docs/architecture.md §3). A connection of its own (not mongoose's global one),
 * indexes created at start so the unique name holds before the first write.
 */
export async function createMongoIntegrationRepository(
  url: string,
  options: MongoRepositoryOptions = {},
): Promise<MongoIntegrationRepository> {
  const connection: Connection = await mongoose
    .createConnection(url, { serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? 10_000 })
    .asPromise();
  const collection = options.collection ?? 'integrations';
  const IntegrationModel: Model<IntegrationDoc> = connection.model<IntegrationDoc>(
    `Integration_${collection}`,
    integrationSchema,
    collection,
  );
  await IntegrationModel.createIndexes();

  return {
    async insert(record) {
      try {
        await IntegrationModel.create(toDoc(record));
      } catch (err) {
        if (isDuplicateName(err)) throw nameTaken(record.name);
        throw err;
      }
    },
    async findById(id) {
      const doc = await IntegrationModel.findById(id).lean<IntegrationDoc>().exec();
      return doc ? fromDoc(doc) : undefined;
    },
    async list() {
      const docs = await IntegrationModel.find()
        .sort({ createdAt: 1, _id: 1 })
        .lean<IntegrationDoc[]>()
        .exec();
      return docs.map(fromDoc);
    },
    async update(record, expectedRevision) {
      try {
        const result = await IntegrationModel.replaceOne(
          { _id: record.id, revision: expectedRevision },
          toDoc(record),
        ).exec();
        return result.matchedCount === 1;
      } catch (err) {
        if (isDuplicateName(err)) throw nameTaken(record.name);
        throw err;
      }
    },
    async delete(id) {
      const result = await IntegrationModel.deleteOne({ _id: id }).exec();
      return result.deletedCount === 1;
    },
    async count() {
      return IntegrationModel.countDocuments().exec();
    },
    async isReady() {
      if (connection.readyState !== mongoose.ConnectionStates.connected || !connection.db) return false;
      try {
        await connection.db.admin().ping();
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await connection.close();
    },
    async dropCollection() {
      await IntegrationModel.collection.drop().catch(() => undefined);
    },
  };
}

function isDuplicateName(err: unknown): boolean {
  const e = err as { code?: unknown; keyPattern?: Record<string, unknown> };
  return e?.code === 11000 && e.keyPattern !== undefined && 'name' in e.keyPattern;
}

function toDoc(r: IntegrationRecord): IntegrationDoc {
  const doc: IntegrationDoc = {
    _id: r.id,
    name: r.name,
    apiHost: r.apiHost,
    userFacingHost: r.userFacingHost,
    username: r.username,
    labels: [...r.labels],
    tls: r.tls.caCertificate === undefined ? {} : { caCertificate: r.tls.caCertificate },
    secrets: { accessToken: r.secrets.accessToken, webhookSecret: r.secrets.webhookSecret },
    revision: r.revision,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
  if (r.description !== undefined) doc.description = r.description;
  if (r.webhooks !== undefined) doc.webhooks = { mode: r.webhooks.mode, scope: r.webhooks.scope };
  if (r.secrets.previousWebhookSecret !== undefined)
    doc.secrets.previousWebhookSecret = r.secrets.previousWebhookSecret;
  if (r.previousWebhookSecretValidUntil !== undefined) {
    doc.previousWebhookSecretValidUntil = r.previousWebhookSecretValidUntil;
  }
  if (r.oauth !== undefined && r.secrets.oauthClientSecret !== undefined) {
    doc.oauth = { clientId: r.oauth.clientId };
    doc.secrets.oauthClientSecret = r.secrets.oauthClientSecret;
  }
  return doc;
}

function fromDoc(d: IntegrationDoc): IntegrationRecord {
  const record: IntegrationRecord = {
    id: d._id,
    name: d.name,
    apiHost: d.apiHost,
    userFacingHost: d.userFacingHost,
    username: d.username,
    labels: [...(d.labels ?? [])],
    tls: typeof d.tls?.caCertificate === 'string' ? { caCertificate: d.tls.caCertificate } : {},
    secrets: { accessToken: d.secrets.accessToken, webhookSecret: d.secrets.webhookSecret },
    revision: d.revision,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
  if (typeof d.description === 'string') record.description = d.description;
  // Documents written before the setting existed have none: manual (docs/architecture.md §14).
  if (d.webhooks?.mode === 'managed' || d.webhooks?.mode === 'manual')
    record.webhooks = {
      mode: d.webhooks.mode,
      scope: d.webhooks.scope === 'project' ? 'project' : 'repository',
    };
  if (typeof d.secrets.previousWebhookSecret === 'string') {
    record.secrets.previousWebhookSecret = d.secrets.previousWebhookSecret;
  }
  if (typeof d.previousWebhookSecretValidUntil === 'string') {
    record.previousWebhookSecretValidUntil = d.previousWebhookSecretValidUntil;
  }
  if (typeof d.oauth?.clientId === 'string' && typeof d.secrets.oauthClientSecret === 'string') {
    record.oauth = { clientId: d.oauth.clientId };
    record.secrets.oauthClientSecret = d.secrets.oauthClientSecret;
  }
  return record;
}
