import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findRepoRoot, fixtureNamed, ownCorpus, readJson } from '@stacklink/fixtures';
import { renderEventCatalogue } from './catalogue';

/*
 * Writes docs/events.md from our own fixtures (libs/fixtures):
 *   node libs/events/dist/src/generate-catalogue.js            write <repo>/docs/events.md
 *   node libs/events/dist/src/generate-catalogue.js --check    exit 1 when the file is out of date
 *   node libs/events/dist/src/generate-catalogue.js --out FILE write elsewhere
 */
function main(argv: string[]): number {
  const check = argv.includes('--check');
  const outIndex = argv.indexOf('--out');
  const out =
    outIndex >= 0 && argv[outIndex + 1] !== undefined
      ? resolve(argv[outIndex + 1]!)
      : join(findRepoRoot(__dirname), 'docs', 'events.md');
  const corpus = ownCorpus();
  const text = renderEventCatalogue((file) => readJson(fixtureNamed(corpus, corpus.webhooks, file)));
  if (check) {
    let current = '';
    try {
      current = readFileSync(out, 'utf8');
    } catch {
      // A missing file is simply out of date.
    }
    if (current === text) return 0;
    process.stderr.write(`${out} is out of date; run node libs/events/dist/src/generate-catalogue.js\n`);
    return 1;
  }
  writeFileSync(out, text);
  process.stdout.write(`wrote ${out}\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
