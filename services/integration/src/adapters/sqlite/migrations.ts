import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Owner of our rows in the shared `schema_migrations` table. */
export const SERVICE = 'integration';

/**
 * Append-only: a released migration never changes. stack-trigger may share the same SQLite file with
 * its own tables, so every table here is prefixed `integration_` and `schema_migrations` is keyed by
 * (service, version).
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'create integration_integrations',
    sql: `
      CREATE TABLE integration_integrations (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        api_host TEXT NOT NULL,
        user_facing_host TEXT NOT NULL,
        username TEXT NOT NULL,
        description TEXT,
        labels TEXT NOT NULL,
        tls_ca_certificate TEXT,
        access_token_enc TEXT NOT NULL,
        webhook_secret_enc TEXT NOT NULL,
        previous_webhook_secret_enc TEXT,
        previous_webhook_secret_valid_until TEXT,
        revision INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE UNIQUE INDEX integration_integrations_name ON integration_integrations (name);
      CREATE INDEX integration_integrations_created ON integration_integrations (created_at, id);
    `,
  },
];

/**
 * Applies the migrations this database has not seen, each in its own IMMEDIATE transaction so two
 * processes starting on the same file cannot apply one twice. Returns the versions applied.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  db.exec(`
    CREATE TABLE IF NOT EXISTS schema_migrations (
      service TEXT NOT NULL,
      version INTEGER NOT NULL,
      name TEXT NOT NULL,
      applied_at TEXT NOT NULL,
      PRIMARY KEY (service, version)
    )
  `);
  const applied: number[] = [];
  const seen = db.prepare('SELECT 1 FROM schema_migrations WHERE service = ? AND version = ?');
  const record = db.prepare(
    'INSERT INTO schema_migrations (service, version, name, applied_at) VALUES (?, ?, ?, ?)',
  );
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    const apply = db.transaction(() => {
      if (seen.get(SERVICE, migration.version) !== undefined) return false;
      db.exec(migration.sql);
      record.run(SERVICE, migration.version, migration.name, new Date().toISOString());
      return true;
    });
    if (apply.immediate()) applied.push(migration.version);
  }
  return applied;
}
