import { randomBytes } from 'node:crypto';

export function newMasterKey(): string {
  return randomBytes(32).toString('base64');
}
