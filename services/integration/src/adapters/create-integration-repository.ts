import type { IntegrationRepositoryPort } from '../domain/ports';
import { createMongoIntegrationRepository } from './mongo/mongo-integration-repository';
import { createSqliteIntegrationRepository, sqlitePathOf } from './sqlite/sqlite-integration-repository';

/** STORE_URL picks the adapter: `mongodb://…` (production) or `sqlite:<path>` (embedded). */
export async function createIntegrationRepository(storeUrl: string): Promise<IntegrationRepositoryPort> {
  if (storeUrl.startsWith('sqlite:')) return createSqliteIntegrationRepository(sqlitePathOf(storeUrl));
  if (/^mongodb(\+srv)?:\/\//.test(storeUrl)) return createMongoIntegrationRepository(storeUrl);
  throw new Error('STORE_URL must be mongodb://… or sqlite:<path>');
}
