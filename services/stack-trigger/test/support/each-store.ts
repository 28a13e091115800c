import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mongoose from 'mongoose';
import { openMongoStore } from '../../src/adapters/mongo/mongo-store';
import { openSqliteStore } from '../../src/adapters/sqlite/sqlite-store';
import type { Store } from '../../src/adapters/store';

/**
 * MONGO_URL with its database (if it names one) replaced by `database`, its options kept:
 * `mongodb://h:27017/stacklink-test?x=1` → `mongodb://h:27017/<database>?x=1`.
 */
export function withDatabase(mongoUrl: string, database: string): string {
  const match = /^(mongodb(?:\+srv)?:\/\/[^/?]+)(?:\/[^?]*)?(\?.*)?$/.exec(mongoUrl);
  if (!match) throw new Error(`MONGO_URL is not a mongodb:// URL: ${mongoUrl}`);
  return `${match[1]}/${database}${match[2] ?? ''}`;
}

/** A MongoDB store in a database of its own, which goes with it when it is closed. */
export async function openMongoTestStore(mongoUrl: string): Promise<Store> {
  const url = withDatabase(
    mongoUrl,
    `stack_trigger_test_${Date.now()}_${Math.random().toString(16).slice(2)}`,
  );
  const store = await openMongoStore(url);
  return {
    ...store,
    close: async () => {
      await store.close();
      const connection = await mongoose.createConnection(url).asPromise();
      await connection.dropDatabase();
      await connection.close();
    },
  };
}

/**
 * The MongoDB run of a contract suite (docs/architecture.md §3) when MONGO_URL names a server; pending,
 * visibly, otherwise.
 */
export function describeMongoStore(label: string, contract: (open: () => Promise<Store>) => void): void {
  const mongoUrl = process.env.MONGO_URL;
  if (mongoUrl) describe(`${label}MongoDB store`, () => contract(() => openMongoTestStore(mongoUrl)));
  else
    describe.skip(`${label}MongoDB store (pending: set MONGO_URL to run this contract against MongoDB)`, () => {
      contract(async () => openMongoStore('mongodb://unset'));
    });
}

/** One contract suite against each store: SQLite (a file per test), then MongoDB (describeMongoStore). */
export function describeEachStore(label: string, contract: (open: () => Promise<Store>) => void): void {
  describe(`${label}: SQLite store`, () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'stack-trigger-store-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));
    let n = 0;
    contract(async () => openSqliteStore(join(dir, `store-${++n}.db`)));
  });
  describeMongoStore(`${label}: `, contract);
}
