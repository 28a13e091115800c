import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findFixturesDir } from '../../src/paths';

/** shared/fixtures/bitbucket-dc/webhooks, found from wherever the compiled test runs (or STACKLINK_FIXTURES). */
export function webhooksDir(): string {
  return join(findFixturesDir(__dirname), 'webhooks');
}

/** Every webhook body file, read at test time so a new fixture is covered without editing a list. */
export function listWebhookFixtures(): string[] {
  return readdirSync(webhooksDir())
    .filter((name) => name.endsWith('.json'))
    .sort();
}

/** A fresh parsed copy of a webhook body, safe to mutate in a test. */
export function loadWebhook(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(webhooksDir(), name), 'utf8')) as Record<string, unknown>;
}
