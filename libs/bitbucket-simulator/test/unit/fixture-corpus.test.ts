import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import * as bitbucket from '@stacklink/bitbucket';
import { pageOf, verifySignature, type Parser } from '@stacklink/bitbucket';
import {
  buildFixtureCorpus,
  diffFixtures,
  fixturesDir,
  readFixtureFiles,
  type FixtureCorpus,
  type FixtureManifest,
} from '../../src/fixture-corpus';

const REGENERATE = 'run `npm run fixtures -w @stacklink/bitbucket-simulator` and commit the result';

function parserFor(model: string): Parser<unknown> {
  const page = /^Page<(\w+)>$/.exec(model);
  const name = page ? page[1]! : model;
  const parser = (bitbucket as unknown as Record<string, unknown>)[name];
  if (typeof parser !== 'function') throw new Error(`@stacklink/bitbucket has no parser ${name}`);
  return page ? pageOf(parser as Parser<unknown>) : (parser as Parser<unknown>);
}

describe('libs/fixtures/bitbucket-dc, written by buildFixtureCorpus()', () => {
  const dir = fixturesDir(__dirname);
  let corpus: FixtureCorpus;
  let manifest: FixtureManifest;

  before(async () => {
    corpus = await buildFixtureCorpus();
    manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as FixtureManifest;
  });

  it('is in step with the builder: every file equal, none missing, none extra', () => {
    expect(diffFixtures(corpus.files, readFixtureFiles(dir)), REGENERATE).to.deep.equal({
      differ: [],
      missing: [],
      extra: [],
    });
  });

  it('builds the same bytes on every run', async () => {
    const again = await buildFixtureCorpus();
    expect(diffFixtures(corpus.files, again.files)).to.deep.equal({ differ: [], missing: [], extra: [] });
  });

  it('has a signature vector that verifies, with node crypto and verifySignature, for at least 12 webhook files', () => {
    expect(manifest.signatures).to.have.length.of.at.least(12);
    for (const { file, secret, header } of manifest.signatures) {
      const bytes = fs.readFileSync(path.join(dir, 'webhooks', file));
      const hex = createHmac('sha256', secret).update(bytes).digest('hex');
      expect(header, file).to.equal(`sha256=${hex}`);
      expect(verifySignature(bytes, header, [secret]), file).to.deep.equal({ valid: true });
    }
  });

  it('has REST bodies that parse with the model the manifest names', () => {
    for (const { file, model } of manifest.api) {
      const body: unknown = JSON.parse(fs.readFileSync(path.join(dir, 'api', file), 'utf8'));
      expect(() => parserFor(model)(body), `${file} as ${model}`).not.to.throw();
    }
  });

  it('lists every webhook and api file in the manifest exactly once', () => {
    const onDisk = [...readFixtureFiles(dir).keys()].filter((f) => f !== 'manifest.json').sort();
    const listed = [
      ...manifest.webhooks.map((w) => `webhooks/${w.file}`),
      ...manifest.api.map((a) => `api/${a.file}`),
    ].sort();
    expect(listed).to.deep.equal(onDisk);
  });
});
