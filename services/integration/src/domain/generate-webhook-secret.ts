import { randomBytes } from 'node:crypto';

/** 32 random bytes, hex (docs/architecture.md §4). */
export function generateWebhookSecret(): string {
  return randomBytes(32).toString('hex');
}
