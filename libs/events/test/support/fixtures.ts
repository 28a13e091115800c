import { ownWebhook, readJson } from '@stacklink/fixtures';

/** A fresh parsed copy of one of our own webhook bodies (libs/fixtures), safe to change in a test. */
export function loadWebhook(name: string): Record<string, unknown> {
  return readJson(ownWebhook(name));
}
