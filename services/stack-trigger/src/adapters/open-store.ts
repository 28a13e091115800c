import { openMongoStore } from './mongo/mongo-store';
import { openSqliteStore } from './sqlite/sqlite-store';
import type { Store } from './store';

/** `sqlite:<path>` for the embedded store, `mongodb://…` for MongoDB (docs/architecture.md §2, §3). */
export async function openStore(storeUrl: string): Promise<Store> {
  if (storeUrl.startsWith('sqlite:')) return openSqliteStore(storeUrl.slice('sqlite:'.length));
  return openMongoStore(storeUrl);
}
