import type { IntegrationRecord, IntegrationRepositoryPort, SecretCipherPort, SecretField } from './ports';

export interface ReencryptReport {
  integrations: number;
  /** Encrypted values seen. */
  values: number;
  /** Values that were sealed with an older key and now are sealed with the current one. */
  reencrypted: number;
  alreadyCurrent: number;
}

const FIELDS: readonly SecretField[] = [
  'accessToken',
  'webhookSecret',
  'previousWebhookSecret',
  'oauthClientSecret',
];
const ATTEMPTS = 5;

/**
 * Re-seals every secret under the current master key, so a previous key can be retired. Idempotent:
 * values already under the current key are left as they are. Every value is decrypted once on the way,
 * so an undecryptable value fails the run loudly instead of being discovered later. Reports counts only.
 */
export function createReencryptSecrets(deps: {
  repository: IntegrationRepositoryPort;
  cipher: SecretCipherPort;
}): () => Promise<ReencryptReport> {
  return async () => {
    const report: ReencryptReport = { integrations: 0, values: 0, reencrypted: 0, alreadyCurrent: 0 };
    for (const listed of await deps.repository.list()) {
      report.integrations += 1;
      let record: IntegrationRecord | undefined = listed;
      for (let attempt = 0; record !== undefined; attempt += 1) {
        const { next, reencrypted, values } = reseal(deps.cipher, record);
        if (reencrypted === 0 || (await deps.repository.update(next, record.revision))) {
          report.values += values;
          report.reencrypted += reencrypted;
          report.alreadyCurrent += values - reencrypted;
          break;
        }
        // Changed by the API meanwhile: start over from the stored version.
        if (attempt + 1 >= ATTEMPTS) throw new Error(`integration ${record.id} keeps changing; run again`);
        record = await deps.repository.findById(record.id);
      }
    }
    return report;
  };
}

function reseal(
  cipher: SecretCipherPort,
  record: IntegrationRecord,
): { next: IntegrationRecord; reencrypted: number; values: number } {
  const secrets = { ...record.secrets };
  let reencrypted = 0;
  let values = 0;
  for (const field of FIELDS) {
    const ciphertext = secrets[field];
    if (ciphertext === undefined) continue;
    values += 1;
    const context = { recordId: record.id, field };
    const plaintext = cipher.decrypt(ciphertext, context);
    if (cipher.isCurrent(ciphertext)) continue;
    secrets[field] = cipher.encrypt(plaintext, context);
    reencrypted += 1;
  }
  // updatedAt is kept: re-sealing is not a change anyone made to the integration.
  return { next: { ...record, secrets, revision: record.revision + 1 }, reencrypted, values };
}
