import { expect } from 'chai';
import {
  pageOf,
  parseActivity,
  parseBitbucketDate,
  parseBrowseType,
  parseBuildCapabilities,
  parseBuildStatus,
  parseCapabilities,
  parseChangesPage,
  parseComment,
  parseCommit,
  parseDiff,
  parseErrorBody,
  parseProject,
  parsePullRequest,
  parseRef,
  parseRepository,
  parseString,
  parseUser,
  parseWebhook,
  parseWebhookCapabilities,
  parseWebhookRequest,
  type Parser,
} from '../../src';
import * as bitbucket from '../../src';
import { type ApiFixture, fixtureNamed, ownCorpus, readJson } from '@stacklink/fixtures';
import { describePublicCorpus } from '@stacklink/testing';

/** Which model reads which REST capture of the public corpus, by file name. The first match wins. */
const API_MODELS: [RegExp, string, Parser<unknown>][] = [
  [/build-status-REQUEST/, 'BuildStatus (request)', parseBuildStatus],
  [/webhook-create-REQUEST/, 'WebhookRequest', parseWebhookRequest],
  [/error/, 'ErrorBody', parseErrorBody],
  [/build-capabilities/, 'BuildCapabilities', parseBuildCapabilities],
  [/webhooks-capabilities/, 'WebhookCapabilities', parseWebhookCapabilities],
  [/capabilities/, 'Capabilities', parseCapabilities],
  [/build-status-list/, 'Page<BuildStatus>', pageOf(parseBuildStatus)],
  [/projects(-page)?\.json$/, 'Page<Project>', pageOf(parseProject)],
  [/project\.json$/, 'Project', parseProject],
  [/repos(-filter)?(-page)?\.json$/, 'Page<Repository>', pageOf(parseRepository)],
  [/repo\.json$/, 'Repository', parseRepository],
  [/(pull-request|commit|compare)-changes/, 'ChangesPage', parseChangesPage],
  [/pull-request-activities/, 'Page<Activity>', pageOf(parseActivity)],
  [/pull-request-comment/, 'Comment', parseComment],
  [/pull-request-diff/, 'Diff', parseDiff],
  [/pull-requests(-page1?|-lastpage)?\.json$/, 'Page<PullRequest>', pageOf(parsePullRequest)],
  [/pull-request(-\d|-iso-dates)?\.json$/, 'PullRequest', parsePullRequest],
  [/commits/, 'Page<Commit>', pageOf(parseCommit)],
  [/(commit|browse-put-\w+)\.json$/, 'Commit', parseCommit],
  [/(default-branch|branches-default|tag)\.json$/, 'Ref', parseRef],
  [/(branches|tags)(-\w+)?\.json$/, 'Page<Ref>', pageOf(parseRef)],
  [/files-list/, 'Page<string>', pageOf(parseString)],
  [/browse-type/, 'BrowseType', parseBrowseType],
  [/users-search/, 'Page<User>', pageOf(parseUser)],
  [/user\.json$/, 'User', parseUser],
  [/webhooks(-list)?(-page1?|-lastpage)?\.json$/, 'Page<Webhook>', pageOf(parseWebhook)],
  [/webhook(-create-response)?\.json$/, 'Webhook', parseWebhook],
];

/**
 * Fixtures that are not Bitbucket answers. go-scm's branch_create.json is a GitHub ref object that its
 * origin test posts as a request body (see SOURCES.md); the Ref model must refuse it.
 */
const NOT_BITBUCKET: Record<string, Parser<unknown>> = {
  'go-scm-branches-create.json': parseRef,
};

function publicApiFixture(fixture: ApiFixture): void {
  const notBitbucket = NOT_BITBUCKET[fixture.file];
  if (notBitbucket !== undefined) {
    it(`${fixture.file} is not a Bitbucket body and is refused`, () => {
      expect(() => notBitbucket(readJson(fixture))).to.throw(/expected/);
    });
    return;
  }
  const model = API_MODELS.find(([pattern]) => pattern.test(fixture.file));
  it(`${fixture.file} parses as ${model?.[1] ?? '(no model: add one to API_MODELS)'}`, () => {
    expect(model, `no model matches ${fixture.file}`).to.not.equal(undefined);
    const body = readJson(fixture);
    expect(model![2](body)).to.equal(body);
  });
}

/**
 * Our own REST fixtures name their model in the manifest (`parseRepository`, `Page<parseRef>`): any
 * parser the package exports, looked up by that name.
 */
function modelNamed(name: string): Parser<unknown> | undefined {
  const page = /^Page<(parse\w+)>$/.exec(name)?.[1];
  const parser = (bitbucket as Record<string, unknown>)[page ?? name];
  if (typeof parser !== 'function' || !/^parse\w+$/.test(page ?? name)) return undefined;
  return page === undefined ? (parser as Parser<unknown>) : pageOf(parser as Parser<unknown>);
}

describe('models parse every fixture', () => {
  const own = ownCorpus();

  describe('our own REST answers and request bodies, by the model the manifest names', () => {
    for (const fixture of own.api) {
      it(`${fixture.file} parses as ${fixture.model ?? '(no model named)'}`, () => {
        const parse = modelNamed(fixture.model ?? '');
        expect(parse, `no model ${fixture.model} for ${fixture.file}`).to.not.equal(undefined);
        const body = readJson(fixture);
        expect(parse!(body)).to.equal(body);
      });
    }
  });

  describePublicCorpus(
    'bitbucket-dc',
    'REST captures and request bodies of the public corpus (api/)',
    (corpus) => {
      for (const fixture of corpus.api) publicApiFixture(fixture);
    },
  );

  describe('what the models insist on', () => {
    const webhook = <T>(file: string): T => readJson<T>(fixtureNamed(own, own.webhooks, file));
    const pr = webhook<{ pullRequest: Record<string, unknown> }>('pr-opened.json');

    it('reads pull-request dates given as epoch milliseconds or ISO strings', () => {
      const epoch = parsePullRequest(pr.pullRequest);
      const iso = parsePullRequest(webhook<typeof pr>('pr-opened-iso-dates.json').pullRequest);
      expect(typeof epoch.createdDate).to.equal('number');
      expect(typeof iso.createdDate).to.equal('string');
      expect(parseBitbucketDate(iso.createdDate).getTime()).to.be.greaterThan(0);
    });

    it('refuses a wrong field naming its path, and keeps the body it was given', () => {
      const body = JSON.parse(JSON.stringify(pr.pullRequest)) as { fromRef: Record<string, unknown> };
      expect(parsePullRequest(body)).to.equal(body);
      body.fromRef.latestCommit = 42;
      expect(() => parsePullRequest(body))
        .to.throw(/fromRef\.latestCommit: expected a string, got number/)
        .with.property('code', 'BITBUCKET.INVALID_PAYLOAD');
      expect(() => pageOf(parseRef)({ isLastPage: true, values: [{ id: 'refs/heads/main' }] })).to.throw(
        /values\[0\]\.displayId/,
      );
    });

    it('checks the origin of a fork as a repository, and pages of a parser made elsewhere', () => {
      const fork = parseRepository(readJson(fixtureNamed(own, own.api, 'repository-fork.json')));
      expect(fork.origin).to.be.an('object');
      const wrong = { ...fork, origin: { ...fork.origin, slug: 7 } };
      expect(() => parseRepository(wrong)).to.throw(/\.origin\.slug: expected a string/);
      const upper: Parser<string> = (v, p = '') => {
        if (typeof v !== 'string' || v !== v.toUpperCase()) throw new Error(`${p}: not upper case`);
        return v;
      };
      const body = { isLastPage: true, values: ['A', 'B'] };
      expect(pageOf(upper)(body)).to.equal(body);
      expect(() => pageOf(upper)({ isLastPage: true, values: ['A', 'b'] })).to.throw(/not upper case/);
    });
  });
});
