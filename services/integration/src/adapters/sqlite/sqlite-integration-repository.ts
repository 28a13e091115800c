import { openSqliteDatabase } from '@stacklink/sqlite';
import { nameTaken } from '../../domain/integration-errors';
import type { IntegrationRecord, IntegrationRepositoryPort } from '../../domain/ports';
import { migrate } from './migrations';

interface Row {
  id: string;
  name: string;
  api_host: string;
  user_facing_host: string;
  username: string;
  description: string | null;
  labels: string;
  tls_ca_certificate: string | null;
  webhooks: string | null;
  access_token_enc: string;
  webhook_secret_enc: string;
  previous_webhook_secret_enc: string | null;
  previous_webhook_secret_valid_until: string | null;
  oauth_client_id: string | null;
  oauth_client_secret_enc: string | null;
  revision: number;
  created_at: string;
  updated_at: string;
}

const COLUMNS = [
  'id',
  'name',
  'api_host',
  'user_facing_host',
  'username',
  'description',
  'labels',
  'tls_ca_certificate',
  'webhooks',
  'access_token_enc',
  'webhook_secret_enc',
  'previous_webhook_secret_enc',
  'previous_webhook_secret_valid_until',
  'oauth_client_id',
  'oauth_client_secret_enc',
  'revision',
  'created_at',
  'updated_at',
] as const;

/** `sqlite:<path>` → the file path; `sqlite::memory:` → an in-memory database. */
export function sqlitePathOf(storeUrl: string): string {
  if (!storeUrl.startsWith('sqlite:')) throw new Error(`not a sqlite store URL: ${storeUrl}`);
  return storeUrl.slice('sqlite:'.length);
}

/** The embedded store (docs/architecture.md §3), opened as every service opens it (@stacklink/sqlite). */
export function createSqliteIntegrationRepository(path: string): IntegrationRepositoryPort {
  const db = openSqliteDatabase(path);
  migrate(db);

  const insert = db.prepare(
    `INSERT INTO integration_integrations (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((c) => `@${c}`).join(', ')})`,
  );
  const byId = db.prepare<[string], Row>('SELECT * FROM integration_integrations WHERE id = ?');
  const all = db.prepare<[], Row>('SELECT * FROM integration_integrations ORDER BY created_at, id');
  const update = db.prepare(
    `UPDATE integration_integrations SET ${COLUMNS.filter((c) => c !== 'id')
      .map((c) => `${c} = @${c}`)
      .join(', ')} WHERE id = @id AND revision = @expected_revision`,
  );
  const remove = db.prepare('DELETE FROM integration_integrations WHERE id = ?');
  const count = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM integration_integrations');
  let open = true;

  return {
    async insert(record) {
      try {
        insert.run(toRow(record));
      } catch (err) {
        if (isUniqueViolation(err, 'name')) throw nameTaken(record.name);
        throw err;
      }
    },
    async findById(id) {
      const row = byId.get(id);
      return row === undefined ? undefined : fromRow(row);
    },
    async list() {
      return all.all().map(fromRow);
    },
    async update(record, expectedRevision) {
      try {
        return update.run({ ...toRow(record), expected_revision: expectedRevision }).changes === 1;
      } catch (err) {
        if (isUniqueViolation(err, 'name')) throw nameTaken(record.name);
        throw err;
      }
    },
    async delete(id) {
      return remove.run(id).changes === 1;
    },
    async count() {
      return count.get()?.n ?? 0;
    },
    async isReady() {
      if (!open) return false;
      try {
        db.prepare('SELECT 1').get();
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      if (!open) return;
      open = false;
      db.close();
    },
  };
}

function isUniqueViolation(err: unknown, column: string): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return (
    e?.code === 'SQLITE_CONSTRAINT_UNIQUE' &&
    typeof e.message === 'string' &&
    e.message.includes(`integration_integrations.${column}`)
  );
}

function toRow(r: IntegrationRecord): Row {
  return {
    id: r.id,
    name: r.name,
    api_host: r.apiHost,
    user_facing_host: r.userFacingHost,
    username: r.username,
    description: r.description ?? null,
    labels: JSON.stringify(r.labels),
    tls_ca_certificate: r.tls.caCertificate ?? null,
    webhooks: r.webhooks === undefined ? null : JSON.stringify(r.webhooks),
    access_token_enc: r.secrets.accessToken,
    webhook_secret_enc: r.secrets.webhookSecret,
    previous_webhook_secret_enc: r.secrets.previousWebhookSecret ?? null,
    previous_webhook_secret_valid_until: r.previousWebhookSecretValidUntil ?? null,
    oauth_client_id: r.oauth?.clientId ?? null,
    oauth_client_secret_enc: r.secrets.oauthClientSecret ?? null,
    revision: r.revision,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  };
}

function fromRow(row: Row): IntegrationRecord {
  const record: IntegrationRecord = {
    id: row.id,
    name: row.name,
    apiHost: row.api_host,
    userFacingHost: row.user_facing_host,
    username: row.username,
    labels: JSON.parse(row.labels) as string[],
    tls: row.tls_ca_certificate === null ? {} : { caCertificate: row.tls_ca_certificate },
    secrets: { accessToken: row.access_token_enc, webhookSecret: row.webhook_secret_enc },
    revision: row.revision,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.description !== null) record.description = row.description;
  if (row.webhooks !== null)
    record.webhooks = JSON.parse(row.webhooks) as NonNullable<IntegrationRecord['webhooks']>;
  if (row.previous_webhook_secret_enc !== null)
    record.secrets.previousWebhookSecret = row.previous_webhook_secret_enc;
  if (row.oauth_client_id !== null && row.oauth_client_secret_enc !== null) {
    record.oauth = { clientId: row.oauth_client_id };
    record.secrets.oauthClientSecret = row.oauth_client_secret_enc;
  }
  if (row.previous_webhook_secret_valid_until !== null) {
    record.previousWebhookSecretValidUntil = row.previous_webhook_secret_valid_until;
  }
  return record;
}
