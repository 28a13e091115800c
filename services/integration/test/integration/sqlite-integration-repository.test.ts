import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { MIGRATIONS, migrate } from '../../src/adapters/sqlite/migrations';
import {
  createSqliteIntegrationRepository,
  sqlitePathOf,
} from '../../src/adapters/sqlite/sqlite-integration-repository';
import { createTempDir } from '../support/temp-dir';
import { describeIntegrationRepositoryContract, sampleRecord } from './integration-repository.contract';

describeIntegrationRepositoryContract('SQLite in memory', async () => {
  const repository = createSqliteIntegrationRepository(':memory:');
  return { repository, dispose: () => repository.close() };
});

describeIntegrationRepositoryContract('SQLite file', async () => {
  const dir = createTempDir('contract');
  const repository = createSqliteIntegrationRepository(join(dir.path, 'nested', 'store.db'));
  return {
    repository,
    dispose: async () => {
      await repository.close();
      dir.remove();
    },
  };
});

describe('SQLite store', () => {
  let dir: ReturnType<typeof createTempDir>;
  beforeEach(() => {
    dir = createTempDir('sqlite');
  });
  afterEach(() => dir.remove());

  it('reads the path from STORE_URL sqlite:<path>', () => {
    expect(sqlitePathOf('sqlite:./data/stacklink.db')).to.equal('./data/stacklink.db');
    expect(sqlitePathOf('sqlite::memory:')).to.equal(':memory:');
  });

  it('creates the parent directory and opens the file in WAL mode', async () => {
    const path = join(dir.path, 'a', 'b', 'store.db');
    const repository = createSqliteIntegrationRepository(path);
    await repository.insert(sampleRecord());
    expect(existsSync(path)).to.equal(true);
    await repository.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).to.equal('wal');
    db.close();
  });

  it('keeps data across reopening the file and applies each migration once', async () => {
    const path = join(dir.path, 'store.db');
    const first = createSqliteIntegrationRepository(path);
    const record = sampleRecord();
    await first.insert(record);
    await first.close();
    const second = createSqliteIntegrationRepository(path);
    expect(await second.findById(record.id)).to.deep.equal(record);
    await second.close();
    const db = new Database(path, { readonly: true });
    const rows = db.prepare("SELECT version FROM schema_migrations WHERE service = 'integration'").all();
    db.close();
    expect(rows).to.deep.equal(MIGRATIONS.map((m) => ({ version: m.version })));
  });

  it('applies version 3 over a store at version 1, and a version 2 that lands later still applies (the gap is tolerated)', () => {
    const db = new Database(join(dir.path, 'gap.db'));
    expect(
      migrate(
        db,
        MIGRATIONS.filter((m) => m.version === 1),
      ),
    ).to.deep.equal([1]);
    expect(
      migrate(
        db,
        MIGRATIONS.filter((m) => m.version <= 3 && m.version !== 2),
      ),
    ).to.deep.equal([3]);
    const later = {
      version: 2,
      name: 'a migration merged later',
      sql: 'CREATE TABLE integration_later (id TEXT)',
    };
    expect(migrate(db, [...MIGRATIONS.filter((m) => m.version !== 2), later])).to.deep.equal([2]);
    const columns = db
      .prepare('PRAGMA table_info(integration_integrations)')
      .all()
      .map((c) => (c as { name: string }).name);
    db.close();
    expect(columns).to.include.members(['oauth_client_id', 'oauth_client_secret_enc']);
  });

  it('shares schema_migrations with another service keyed by (service, version)', () => {
    const db = new Database(join(dir.path, 'shared.db'));
    // stack-trigger got here first with its own version 1.
    db.exec(`CREATE TABLE schema_migrations (service TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL,
      applied_at TEXT NOT NULL, PRIMARY KEY (service, version));
      CREATE TABLE stack_trigger_stacks (id TEXT PRIMARY KEY);
      INSERT INTO schema_migrations VALUES ('stack-trigger', 1, 'stacks', '2030-01-01T00:00:00Z');`);
    expect(migrate(db)).to.deep.equal(MIGRATIONS.map((m) => m.version));
    expect(migrate(db)).to.deep.equal([]);
    const rows = db.prepare('SELECT service, version FROM schema_migrations ORDER BY service').all();
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all()
      .map((t) => (t as { name: string }).name);
    db.close();
    expect(rows).to.deep.equal([
      ...MIGRATIONS.map((m) => ({ service: 'integration', version: m.version })),
      { service: 'stack-trigger', version: 1 },
    ]);
    expect(tables).to.include.members([
      'integration_integrations',
      'stack_trigger_stacks',
      'schema_migrations',
    ]);
  });

  it('lets two connections on the same file see each other’s writes and the unique name', async () => {
    const path = join(dir.path, 'two.db');
    const a = createSqliteIntegrationRepository(path);
    const b = createSqliteIntegrationRepository(path);
    const record = sampleRecord();
    await a.insert(record);
    expect(await b.findById(record.id)).to.deep.equal(record);
    let code: unknown;
    await b.insert(sampleRecord({ name: record.name })).catch((err: { code?: unknown }) => {
      code = err.code;
    });
    expect(code).to.equal('INTEGRATION.NAME_TAKEN');
    await a.close();
    await b.close();
  });

  it('is not ready once closed', async () => {
    const repository = createSqliteIntegrationRepository(':memory:');
    await repository.close();
    expect(await repository.isReady()).to.equal(false);
  });
});
