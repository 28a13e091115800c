import { describeConfigError } from '@stacklink/config';
import { createAesGcmSecretCipher } from './adapters/aes-gcm-secret-cipher';
import { createIntegrationRepository } from './adapters/create-integration-repository';
import { loadReencryptConfig } from './config';
import { createReencryptSecrets } from './domain/reencrypt-secrets';

/**
 * `node services/integration/dist/src/reencrypt.js` with STORE_URL, MASTER_KEY and PREVIOUS_MASTER_KEYS:
 * re-seals every stored secret under MASTER_KEY so the previous keys can be removed. Idempotent; prints
 * counts as one JSON line, never a value. Exit code 1 when a value cannot be decrypted.
 */
async function run(): Promise<void> {
  let config: ReturnType<typeof loadReencryptConfig>;
  try {
    config = loadReencryptConfig(process.env);
  } catch (err) {
    process.stderr.write(`${describeConfigError(err)}\n`);
    process.exit(1);
  }
  const repository = await createIntegrationRepository(config.storeUrl);
  try {
    const cipher = createAesGcmSecretCipher({
      masterKey: config.masterKey,
      previousMasterKeys: config.previousMasterKeys,
    });
    const report = await createReencryptSecrets({ repository, cipher })();
    process.stdout.write(`${JSON.stringify({ reencrypt: 'done', ...report })}\n`);
  } finally {
    await repository.close();
  }
}

run().catch((err: unknown) => {
  process.stderr.write(`reencrypt failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
