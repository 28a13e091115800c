import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * Applies a service's pending migrations to an embedded store that several services may share (one
 * SQLite file on a single machine): `schema_migrations` is keyed by (service, version), and each
 * migration runs in an IMMEDIATE transaction that re-checks it, so two replicas starting together
 * never apply one twice. Migrations are append-only: a released one never changes.
 * Returns the versions applied now.
 */
export function migrate(db: Database.Database, service: string, migrations: readonly Migration[]): number[] {
  db.exec(`
    CREATE TABLE IF NOT EXISTS schema_migrations (
      service TEXT NOT NULL,
      version INTEGER NOT NULL,
      name TEXT NOT NULL,
      applied_at TEXT NOT NULL,
      PRIMARY KEY (service, version)
    )
  `);
  const seen = db.prepare('SELECT 1 FROM schema_migrations WHERE service = ? AND version = ?');
  const record = db.prepare(
    'INSERT INTO schema_migrations (service, version, name, applied_at) VALUES (?, ?, ?, ?)',
  );
  const applied: number[] = [];
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    const apply = db.transaction(() => {
      if (seen.get(service, migration.version) !== undefined) return false;
      db.exec(migration.sql);
      record.run(service, migration.version, migration.name, new Date().toISOString());
      return true;
    });
    if (apply.immediate()) applied.push(migration.version);
  }
  return applied;
}
