import { describeConfigError, type Env } from '@stacklink/config';
import { createAesGcmSecretCipher } from './adapters/aes-gcm-secret-cipher';
import { createIntegrationRepository } from './adapters/create-integration-repository';
import { loadReencryptConfig } from './config';
import { createReencryptSecrets, type ReencryptReport } from './domain/reencrypt-secrets';

/**
 * Re-seals every stored secret under MASTER_KEY (STORE_URL, MASTER_KEY and PREVIOUS_MASTER_KEYS from
 * `env`) so the previous keys can be removed; idempotent, answers counts, never a value. Throws
 * CONFIG.INVALID for bad variables and an error when a value cannot be decrypted. `stacklink admin
 * reencrypt` runs it; so does this file as a script.
 */
export async function reencryptStore(env: Env): Promise<ReencryptReport> {
  const config = loadReencryptConfig(env);
  const repository = await createIntegrationRepository(config.storeUrl);
  try {
    const cipher = createAesGcmSecretCipher({
      masterKey: config.masterKey,
      previousMasterKeys: config.previousMasterKeys,
    });
    return await createReencryptSecrets({ repository, cipher })();
  } finally {
    await repository.close();
  }
}

/** `node services/integration/dist/src/reencrypt.js`: one JSON line of counts; exit code 1 on failure. */
if (require.main === module) {
  reencryptStore(process.env).then(
    (report) => process.stdout.write(`${JSON.stringify({ reencrypt: 'done', ...report })}\n`),
    (err: unknown) => {
      const config = (err as { code?: string }).code === 'CONFIG.INVALID';
      process.stderr.write(
        config
          ? `${describeConfigError(err)}\n`
          : `reencrypt failed: ${err instanceof Error ? err.message : String(err)}\n`,
      );
      process.exit(1);
    },
  );
}
