import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mongoose from 'mongoose';
import { openMongoStore } from '../../src/adapters/mongo/mongo-store';
import { openSqliteStore } from '../../src/adapters/sqlite/sqlite-store';
import type { Store } from '../../src/adapters/store';

/**
 * Runs one contract suite against each store (docs/architecture.md §3): SQLite, a file per test; MongoDB,
 * a database per test, when MONGO_URL names a server (pending otherwise, visibly).
 */
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
  const mongoUrl = process.env.MONGO_URL;
  if (!mongoUrl) {
    describe.skip(`${label}: MongoDB store (pending: set MONGO_URL to run this contract against MongoDB)`, () => {
      contract(async () => openMongoStore('mongodb://unset'));
    });
    return;
  }
  describe(`${label}: MongoDB store`, () => {
    contract(async () => {
      const match = /^(mongodb(?:\+srv)?:\/\/[^/?]+)(?:\/[^?]*)?(\?.*)?$/.exec(mongoUrl);
      if (!match) throw new Error(`MONGO_URL is not a mongodb:// URL: ${mongoUrl}`);
      const database = `stack_trigger_${Date.now()}_${Math.random().toString(16).slice(2)}`;
      const url = `${match[1]}/${database}${match[2] ?? ''}`;
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
    });
  });
}
