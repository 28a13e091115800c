import { randomBytes } from 'node:crypto';

/**
 * A short prefix for exchanges, queues and Redis keys that no other test run uses, so parallel runs
 * never see each other's leftovers (STYLE.md "Tests"). Matches the NAMESPACE variable's pattern.
 */
export function uniqueNamespace(label?: string): string {
  const random = randomBytes(6).toString('hex');
  const clean = (label ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 20);
  return clean ? `t-${clean}-${random}` : `t-${random}`;
}
