/**
 * Writes the repository's Bitbucket fixtures (libs/fixtures/bitbucket-dc) from buildFixtureCorpus(),
 * replacing what is there. `--check` writes nothing and exits 1 listing files that differ, are missing
 * or should not be there.
 *
 *   node libs/bitbucket-simulator/dist/src/generate-fixtures.js [--check]
 */
import fs from 'node:fs';
import path from 'node:path';
import { buildFixtureCorpus, diffFixtures, fixturesDir, readFixtureFiles } from './fixture-corpus';

async function main(): Promise<number> {
  const check = process.argv.includes('--check');
  const dir = fixturesDir();
  const corpus = await buildFixtureCorpus();
  const relative = path.relative(process.cwd(), dir) || '.';
  if (check) {
    const diff = diffFixtures(corpus.files, readFixtureFiles(dir));
    const problems = [
      ...diff.differ.map((f) => `differs: ${f}`),
      ...diff.missing.map((f) => `missing: ${f}`),
      ...diff.extra.map((f) => `extra:   ${f}`),
    ];
    if (problems.length === 0) {
      console.log(`${relative}: ${corpus.files.size} files up to date`);
      return 0;
    }
    console.error(`${relative} is out of step with the fixture builder (run npm run fixtures):`);
    for (const line of problems) console.error(`  ${line}`);
    return 1;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  for (const [file, content] of corpus.files) {
    const target = path.join(dir, ...file.split('/'));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content);
  }
  console.log(`${relative}: wrote ${corpus.files.size} files`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
