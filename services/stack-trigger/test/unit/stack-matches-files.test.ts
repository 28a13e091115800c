import { expect } from 'chai';
import picomatch from 'picomatch';
import {
  GLOB_OPTIONS,
  MAX_GLOB_LENGTH,
  literalGroups,
  normalizeProjectRoot,
  stackMatchesFiles,
} from '../../src/domain/stack-matches-files';
import { files } from '../support/events';

const at = (projectRoot: string, additionalProjectGlobs: string[] = []) => ({
  projectRoot,
  additionalProjectGlobs,
});

describe('stackMatchesFiles', () => {
  it('matches every file below the project root, at any depth', () => {
    expect(stackMatchesFiles(at('infra/prod'), files('infra/prod/main.tf'))).to.be.true;
    expect(stackMatchesFiles(at('infra/prod'), files('infra/prod/modules/vpc/main.tf'))).to.be.true;
  });

  it('does not match a sibling directory that shares the prefix', () => {
    expect(stackMatchesFiles(at('infra/prod'), files('infra/production/main.tf', 'infra/prod.tf'))).to.be
      .false;
  });

  it('matches dot files below the project root', () => {
    expect(stackMatchesFiles(at('infra/prod'), files('infra/prod/.terraform.lock.hcl'))).to.be.true;
  });

  for (const root of ['', '.', './', '/']) {
    it(`treats the project root "${root}" as the whole repository`, () => {
      expect(stackMatchesFiles(at(root), files('README.md'))).to.be.true;
      expect(stackMatchesFiles(at(root), files('.github/workflows/x.yml'))).to.be.true;
    });
  }

  it('accepts a project root written with ./ and trailing slashes', () => {
    expect(normalizeProjectRoot('./infra/prod/')).to.equal('infra/prod');
    expect(stackMatchesFiles(at('./infra/prod/'), files('infra/prod/a.tf'))).to.be.true;
  });

  it('matches an additional glob with ** semantics outside the project root', () => {
    const s = at('infra/prod', ['modules/**/*.tf']);
    expect(stackMatchesFiles(s, files('modules/net/vpc/main.tf'))).to.be.true;
    expect(stackMatchesFiles(s, files('modules/net/README.md'))).to.be.false;
  });

  it('matches dot files with an additional glob', () => {
    expect(stackMatchesFiles(at('x', ['shared/**']), files('shared/.tflint.hcl'))).to.be.true;
  });

  it('treats the project root as a literal directory, not a glob', () => {
    expect(stackMatchesFiles(at('infra/[prod]'), files('infra/[prod]/main.tf'))).to.be.true;
    expect(stackMatchesFiles(at('infra/[prod]'), files('infra/p/main.tf'))).to.be.false;
  });

  it('does not match when nothing changed', () => {
    expect(stackMatchesFiles(at(''), files())).to.be.false;
  });

  it('counts a truncated list as touching the stack even when no listed path matches', () => {
    expect(stackMatchesFiles(at('infra/prod'), { paths: ['docs/a.md'], truncated: true })).to.be.true;
  });

  it('reads an extglob such as *(a|b) as literal characters, not as a repetition', () => {
    const glob = ['**/*(*.tf|*.tfvars)'];
    expect(stackMatchesFiles(at('none', glob), files('mods/a.tf'))).to.be.false;
    expect(stackMatchesFiles(at('none', glob), files('mods/x(a.tf|a.tfvars)'))).to.be.true;
    expect(GLOB_OPTIONS.noextglob).to.equal(true);
    // The compiled expression holds no group: no nested quantifier can backtrack.
    const source = picomatch.makeRe(literalGroups(glob[0]!), GLOB_OPTIONS).source;
    expect(source).to.not.match(/(?<!\\)\((?!\?)/);
  });

  it('still lists alternatives with braces', () => {
    expect(stackMatchesFiles(at('none', ['x/*.{tf,md}']), files('x/a.md'))).to.be.true;
  });

  it('leaves out a stored glob longer than the bound instead of compiling it', () => {
    const long = `${'*a'.repeat(MAX_GLOB_LENGTH)}`;
    expect(stackMatchesFiles(at('none', [long]), files('aaaa'))).to.be.false;
  });
});
