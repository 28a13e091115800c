import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** Seals a viewer's Bitbucket tokens before they go into the Redis session, and opens them again. */
export interface TokenSealerPort {
  seal(plaintext: string, context: string): string;
  /** Undefined when the value was tampered with, moved to another context, or sealed with another key. */
  open(sealed: string, context: string): string | undefined;
}

/**
 * AES-256-GCM with a random 96-bit IV per value and the session's hashed id as associated data, so a
 * sealed value copied into another session does not open there. Format: `v1:<iv>:<tag>:<ciphertext>`
 * (base64url parts). A copy of Redis alone holds no usable user token.
 */
export function createTokenSealer(keyBase64: string): TokenSealerPort {
  const key = Buffer.from(keyBase64, 'base64');
  if (key.length !== 32) throw new Error('SESSION_ENCRYPTION_KEY must decode to 32 bytes');
  return {
    seal(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(context));
      const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', iv, cipher.getAuthTag(), ct]
        .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
        .join(':');
    },
    open(sealed, context) {
      const [version, iv, tag, ct] = sealed.split(':');
      if (version !== 'v1' || iv === undefined || tag === undefined || ct === undefined) return undefined;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        decipher.setAAD(Buffer.from(context));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString(
          'utf8',
        );
      } catch {
        return undefined;
      }
    },
  };
}
