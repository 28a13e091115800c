import { migrate as runMigrations, type Migration } from '@stacklink/sqlite';
import type Database from 'better-sqlite3';

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
  {
    version: 2,
    name: 'webhook setting: managed or manual, per repository or project',
    sql: `ALTER TABLE integration_integrations ADD COLUMN webhooks TEXT;`,
  },
  {
    version: 3,
    name: 'integration OAuth client (sign in with Bitbucket)',
    sql: `
      ALTER TABLE integration_integrations ADD COLUMN oauth_client_id TEXT;
      ALTER TABLE integration_integrations ADD COLUMN oauth_client_secret_enc TEXT;
    `,
  },
];

/** Applies pending integration migrations; see @stacklink/sqlite for the shared bookkeeping. */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  return runMigrations(db, SERVICE, migrations);
}
