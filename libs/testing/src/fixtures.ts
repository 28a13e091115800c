import fs from 'node:fs';
import path from 'node:path';

/** The shared Bitbucket fixtures: `../shared/fixtures/bitbucket-dc` next to the repository root (STACKLINK_FIXTURES overrides). */
export function fixturesDir(): string {
  if (process.env.STACKLINK_FIXTURES) return process.env.STACKLINK_FIXTURES;
  let dir = __dirname;
  for (let i = 0; i < 10; i++) {
    const candidate = path.resolve(dir, '../shared/fixtures/bitbucket-dc');
    if (fs.existsSync(path.join(dir, 'tsconfig.base.json')) && fs.existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error('fixtures/bitbucket-dc not found; set STACKLINK_FIXTURES');
}

export function listFixtures(kind: 'webhooks' | 'api'): string[] {
  return fs
    .readdirSync(path.join(fixturesDir(), kind))
    .filter((f) => f.endsWith('.json'))
    .sort();
}

export function readFixture(kind: 'webhooks' | 'api', file: string): Buffer {
  return fs.readFileSync(path.join(fixturesDir(), kind, file));
}

/** Rows of the tables in SOURCES.md: file → the `X-Event-Key` column, for webhook bodies. */
export function eventKeysFromSources(): Map<string, string> {
  const text = fs.readFileSync(path.join(fixturesDir(), 'SOURCES.md'), 'utf8');
  const keys = new Map<string, string>();
  for (const line of text.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const file = /^`(webhooks\/[^`]+)`$/.exec(cells[1] ?? '')?.[1];
    const key = /^([a-z]+:[a-z_:]+)/.exec(cells[6] ?? '')?.[1];
    if (file && key) keys.set(file.replace('webhooks/', ''), key);
  }
  return keys;
}

/** The signature vectors table of SOURCES.md. */
export function signatureVectors(): { file: string; secret: string; header: string }[] {
  const text = fs.readFileSync(path.join(fixturesDir(), 'SOURCES.md'), 'utf8');
  const vectors: { file: string; secret: string; header: string }[] = [];
  for (const line of text.split('\n')) {
    const m = /^\| `webhooks\/([^`]+)` \| `([^`]+)` \| `(sha256=[0-9a-f]{64})` \|$/.exec(line.trim());
    if (m) vectors.push({ file: m[1]!, secret: m[2]!, header: m[3]! });
  }
  return vectors;
}
