import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/**
 * Opens the embedded store the way every service shares it (docs/architecture.md §3): parent folder created,
 * WAL so readers go on while one writer commits, and busy_timeout so another process on the same file
 * (the other service, another replica) waits for the lock instead of failing with SQLITE_BUSY.
 */
export function openSqliteDatabase(path: string): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  return db;
}
