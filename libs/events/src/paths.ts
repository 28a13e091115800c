import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The Bitbucket DC fixtures folder (the one holding `webhooks/`). `STACKLINK_FIXTURES` wins when set
 * (either that folder or its parent `fixtures/`); otherwise the nearest `shared/fixtures/bitbucket-dc`
 * walking up from `startDir` — the fixtures live beside the repository, not in it.
 */
export function findFixturesDir(startDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const override = env.STACKLINK_FIXTURES;
  if (override !== undefined && override !== '') {
    const found = [override, join(override, 'bitbucket-dc')].find((dir) => existsSync(join(dir, 'webhooks')));
    if (found === undefined) {
      throw new Error(
        `STACKLINK_FIXTURES=${override} holds no webhooks/ folder (nor bitbucket-dc/webhooks/)`,
      );
    }
    return resolve(found);
  }
  const found = walkUp(startDir, (dir) =>
    existsSync(join(dir, 'shared', 'fixtures', 'bitbucket-dc', 'webhooks')),
  );
  if (found === undefined) {
    throw new Error(`no shared/fixtures/bitbucket-dc above ${startDir}; set STACKLINK_FIXTURES to its path`);
  }
  return join(found, 'shared', 'fixtures', 'bitbucket-dc');
}

/** The monorepo root: the nearest folder above `startDir` that holds `libs/events/package.json`. */
export function findRepoRoot(startDir: string): string {
  const found = walkUp(startDir, (dir) => existsSync(join(dir, 'libs', 'events', 'package.json')));
  if (found === undefined) throw new Error(`no monorepo root above ${startDir}`);
  return found;
}

function walkUp(startDir: string, matches: (dir: string) => boolean): string | undefined {
  for (let dir = resolve(startDir); ; dir = dirname(dir)) {
    if (matches(dir)) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}
