import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { migrate, type Migration } from '../../src';

const integration: Migration[] = [
  { version: 1, name: 'a table', sql: 'CREATE TABLE integration_a (id TEXT)' },
];
const stackTrigger: Migration[] = [
  { version: 1, name: 'b table', sql: 'CREATE TABLE stack_trigger_b (id TEXT)' },
  { version: 2, name: 'b column', sql: 'ALTER TABLE stack_trigger_b ADD COLUMN note TEXT' },
];

describe('migrate', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'stacklink-sqlite-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('two services share one file: each applies only its own migrations, once, in version order', () => {
    const file = path.join(dir, 'shared.db');
    const a = new Database(file);
    const b = new Database(file);

    expect(migrate(a, 'integration', integration)).to.deep.equal([1]);
    expect(migrate(b, 'stack-trigger', [...stackTrigger].reverse())).to.deep.equal([1, 2]);
    expect(migrate(a, 'integration', integration)).to.deep.equal([]);
    expect(migrate(b, 'stack-trigger', stackTrigger)).to.deep.equal([]);

    const rows = a
      .prepare('SELECT service, version, name FROM schema_migrations ORDER BY service, version')
      .all();
    expect(rows).to.deep.equal([
      { service: 'integration', version: 1, name: 'a table' },
      { service: 'stack-trigger', version: 1, name: 'b table' },
      { service: 'stack-trigger', version: 2, name: 'b column' },
    ]);
    a.close();
    b.close();
  });

  it('a migration that fails is rolled back and not recorded, and the error surfaces', () => {
    const db = new Database(path.join(dir, 'fail.db'));
    const broken: Migration[] = [
      { version: 1, name: 'broken', sql: 'CREATE TABLE t (id TEXT); CREATE TABLE t (id TEXT)' },
    ];
    expect(() => migrate(db, 'svc', broken)).to.throw(/already exists/);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 't'").all()).to.deep.equal([]);
    expect(db.prepare('SELECT * FROM schema_migrations').all()).to.deep.equal([]);
    db.close();
  });
});
