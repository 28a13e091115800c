import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { AppError } from '@stacklink/errors';
import type { SecretCipherPort, SecretContext } from '../domain/ports';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface AesGcmKeys {
  /** MASTER_KEY: base64 of 32 bytes; every new value is sealed with it. */
  masterKey: string;
  /** PREVIOUS_MASTER_KEYS: still accepted for decryption until `reencrypt` has run. */
  previousMasterKeys?: readonly string[];
}

/** First 8 hex characters of sha256(key): names a key without revealing it. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/**
 * AES-256-GCM with a random 96-bit IV per value. The associated data is `${recordId}:${field}`, so a
 * ciphertext copied onto another record or field fails authentication instead of decrypting. The key
 * id travels with each value (`v1:<keyId>:<iv>:<tag>:<ciphertext>`, base64 parts) so values sealed
 * with a previous master key stay readable during a key rotation.
 */
export function createAesGcmSecretCipher(keys: AesGcmKeys): SecretCipherPort {
  const current = decodeKey(keys.masterKey, 'MASTER_KEY');
  const currentId = keyIdOf(current);
  const byId = new Map<string, Buffer>();
  for (const [i, k] of (keys.previousMasterKeys ?? []).entries()) {
    const key = decodeKey(k, `PREVIOUS_MASTER_KEYS[${i}]`);
    byId.set(keyIdOf(key), key);
  }
  byId.set(currentId, current);

  return {
    encrypt(plaintext: string, context: SecretContext): string {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(associatedData(context));
      const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [VERSION, currentId, iv.toString('base64'), tag.toString('base64'), ct.toString('base64')].join(
        ':',
      );
    },
    decrypt(ciphertext: string, context: SecretContext): string {
      const parts = ciphertext.split(':');
      const [version, keyId, iv, tag, ct] = parts;
      if (parts.length !== 5 || version !== VERSION || !keyId || !iv || !tag || ct === undefined) {
        throw undecryptable(context, 'the stored value is not in the v1 format');
      }
      const key = byId.get(keyId);
      if (key === undefined) {
        throw undecryptable(
          context,
          `it was sealed with key ${keyId}, which is neither MASTER_KEY nor one of PREVIOUS_MASTER_KEYS`,
        );
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'), {
          authTagLength: TAG_BYTES,
        });
        decipher.setAAD(associatedData(context));
        decipher.setAuthTag(Buffer.from(tag, 'base64'));
        return Buffer.concat([decipher.update(Buffer.from(ct, 'base64')), decipher.final()]).toString('utf8');
      } catch (err) {
        throw undecryptable(
          context,
          'authentication failed (tampered, or moved from another record or field)',
          err,
        );
      }
    },
    isCurrent(ciphertext: string): boolean {
      return ciphertext.startsWith(`${VERSION}:${currentId}:`);
    },
  };
}

function associatedData(context: SecretContext): Buffer {
  return Buffer.from(`${context.recordId}:${context.field}`, 'utf8');
}

function decodeKey(base64: string, name: string): Buffer {
  const key = Buffer.from(base64, 'base64');
  if (key.length !== 32) throw new AppError('CONFIG.INVALID', `${name} must be base64 of exactly 32 bytes`);
  return key;
}

function undecryptable(context: SecretContext, why: string, cause?: unknown): AppError {
  return new AppError(
    'SECRETS.UNDECRYPTABLE',
    `the ${context.field} of integration ${context.recordId} cannot be decrypted: ${why}`,
    { status: 500, cause },
  );
}
