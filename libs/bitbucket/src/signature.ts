import { createHmac, timingSafeEqual } from 'node:crypto';

/** Algorithms Bitbucket may announce in `X-Hub-Signature`; `sha1` is refused (docs/architecture.md §5). */
export type SignatureAlgorithm = 'sha256' | 'sha384' | 'sha512';

export const SIGNATURE_ALGORITHMS: readonly SignatureAlgorithm[] = ['sha256', 'sha384', 'sha512'];

const DIGEST_HEX_LENGTH: Record<SignatureAlgorithm, number> = { sha256: 64, sha384: 96, sha512: 128 };

export type SignatureFailure = 'missing' | 'malformed' | 'unsupported_algorithm' | 'mismatch';

export interface SignatureVerification {
  valid: boolean;
  reason?: SignatureFailure;
}

/** The `X-Hub-Signature` value Bitbucket would send for `rawBody` signed with `secret`. */
export function sign(
  secret: string,
  rawBody: Buffer | string,
  algorithm: SignatureAlgorithm = 'sha256',
): string {
  return `${algorithm}=${createHmac(algorithm, secret).update(rawBody).digest('hex')}`;
}

/**
 * Checks `X-Hub-Signature` over the exact raw bytes against every currently valid secret (the current
 * one plus, during a rotation, the previous one). Each comparison is constant-time and every secret is
 * tried, so timing does not reveal which secret matched.
 */
export function verifySignature(
  rawBody: Buffer,
  header: string | undefined,
  secrets: readonly string[],
): SignatureVerification {
  if (header === undefined || header.trim() === '') return { valid: false, reason: 'missing' };
  const match = /^([a-z0-9]+)=([0-9a-fA-F]+)$/.exec(header.trim());
  if (!match) return { valid: false, reason: 'malformed' };
  const [, name = '', hex = ''] = match;
  if (!isSupported(name)) return { valid: false, reason: 'unsupported_algorithm' };
  if (hex.length !== DIGEST_HEX_LENGTH[name]) return { valid: false, reason: 'malformed' };
  const received = Buffer.from(hex, 'hex');
  let valid = false;
  for (const secret of secrets) {
    const expected = createHmac(name, secret).update(rawBody).digest();
    if (timingSafeEqual(expected, received)) valid = true;
  }
  return valid ? { valid } : { valid, reason: 'mismatch' };
}

function isSupported(name: string): name is SignatureAlgorithm {
  return (SIGNATURE_ALGORITHMS as readonly string[]).includes(name);
}

export {
  formatWebhookScope,
  isWithinScope,
  parseWebhookScope,
  scopedWebhookSecret,
  type WebhookScope,
} from './webhook-scope';
