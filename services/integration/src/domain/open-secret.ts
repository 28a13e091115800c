import type { IntegrationDeps, IntegrationRecord, SecretField } from './ports';

/** Decrypts one secret of `record` and registers it with the logger so it never appears in a log line. */
export function openSecret(
  deps: Pick<IntegrationDeps, 'cipher' | 'registerSecret'>,
  record: IntegrationRecord,
  field: SecretField,
): string {
  const ciphertext = record.secrets[field];
  if (ciphertext === undefined) throw new Error(`integration ${record.id} has no ${field}`);
  const value = deps.cipher.decrypt(ciphertext, { recordId: record.id, field });
  deps.registerSecret(value);
  return value;
}
