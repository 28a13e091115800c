import { uniqueNamespace } from '@stacklink/testing';
import { createMongoIntegrationRepository } from '../../src/adapters/mongo/mongo-integration-repository';
import { describeIntegrationRepositoryContract } from './integration-repository.contract';

/**
 * The MongoDB run of the contract suite needs a server: `MONGO_URL=mongodb://127.0.0.1:27017/stacklink-test
 * npm test` (the docker compose MongoDB works). Without MONGO_URL the suite is registered as pending,
 * never as a pass.
 */
const MONGO_URL = process.env.MONGO_URL;

if (MONGO_URL) {
  describeIntegrationRepositoryContract('MongoDB', async () => {
    const repository = await createMongoIntegrationRepository(MONGO_URL, {
      collection: `integrations_${uniqueNamespace('contract').replace(/[^a-z0-9]/g, '_')}`,
      serverSelectionTimeoutMs: 5000,
    });
    return {
      repository,
      dispose: async () => {
        await repository.dropCollection();
        await repository.close();
      },
    };
  });
} else {
  describe('integration repository contract: MongoDB (pending: set MONGO_URL to run it)', () => {
    it('runs the contract suite against MongoDB when MONGO_URL is set');
  });
}
