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
  parseWebhookPayload,
  parseWebhookRequest,
  type Parser,
} from '../../src';
import { eventKeysFromSources, listFixtures, readFixture } from './fixtures';

/** Which model reads which REST fixture, by file name. The first match wins. */
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

function json(kind: 'webhooks' | 'api', file: string): unknown {
  return JSON.parse(readFixture(kind, file).toString('utf8'));
}

describe('models parse every fixture', () => {
  describe('REST responses and request bodies (api/)', () => {
    for (const file of listFixtures('api')) {
      if (NOT_BITBUCKET[file]) {
        it(`${file} is not a Bitbucket body and is refused`, () => {
          expect(() => NOT_BITBUCKET[file]!(json('api', file))).to.throw(/expected/);
        });
        continue;
      }
      const model = API_MODELS.find(([pattern]) => pattern.test(file));
      it(`${file} parses as ${model?.[1] ?? '(no model: add one to API_MODELS)'}`, () => {
        expect(model, `no model matches ${file}`).to.not.equal(undefined);
        const body = json('api', file);
        expect(model![2](body)).to.equal(body);
      });
    }
  });

  describe('webhook bodies (webhooks/), by the X-Event-Key of SOURCES.md', () => {
    const keys = eventKeysFromSources();
    for (const file of listFixtures('webhooks')) {
      it(`${file} parses as ${keys.get(file) ?? '(unknown event key)'}`, () => {
        const eventKey = keys.get(file);
        expect(eventKey, `${file} has no X-Event-Key row in SOURCES.md`).to.be.a('string');
        const body = json('webhooks', file);
        const event = parseWebhookPayload(eventKey!, body);
        expect(event.eventKey).to.equal(eventKey);
        expect(event.payload).to.equal(body);
        if ('date' in event.payload && event.payload.date !== undefined) {
          expect(parseBitbucketDate(event.payload.date as string).getTime()).to.be.greaterThan(0);
        }
      });
    }
  });

  describe('what the models insist on', () => {
    const pr = json('webhooks', 'go-scm-pr_opened.json') as { pullRequest: Record<string, unknown> };

    it('reads pull-request dates given as epoch milliseconds or ISO strings', () => {
      const epoch = parsePullRequest(json('api', 'go-scm-pull-request.json'));
      const iso = parsePullRequest(json('api', 'go-scm-pull-request-iso-dates.json'));
      expect(typeof epoch.createdDate).to.equal('number');
      expect(typeof iso.createdDate).to.equal('string');
      expect(parseBitbucketDate(iso.createdDate).getTime()).to.be.greaterThan(0);
    });

    it('tolerates unknown extra fields and keeps them', () => {
      const body = { ...pr, somethingNew: { nested: true } };
      const event = parseWebhookPayload('pr:opened', body);
      expect((event.payload as unknown as Record<string, unknown>).somethingNew).to.deep.equal({
        nested: true,
      });
    });

    it('refuses a pull request without a source commit, naming the field', () => {
      const broken = structuredClone(pr);
      delete (broken.pullRequest.fromRef as Record<string, unknown>).latestCommit;
      expect(() => parseWebhookPayload('pr:opened', broken)).to.throw(/pullRequest\.fromRef\.latestCommit/);
    });

    it('refuses a garbage date', () => {
      expect(() => parseWebhookPayload('pr:opened', { ...pr, date: 'last tuesday' })).to.throw(/\.date/);
    });

    it('refuses a ref change of an unknown type', () => {
      const push = json('webhooks', 'go-scm-repo_refs_changed-push-update.json') as {
        changes: { type: string }[];
      };
      push.changes[0]!.type = 'MOVED';
      expect(() => parseWebhookPayload('repo:refs_changed', push)).to.throw(/changes\[0\]\.type/);
    });

    it('refuses an event key it has no model for, with BITBUCKET.UNKNOWN_EVENT', () => {
      expect(() => parseWebhookPayload('project:created', {}))
        .to.throw()
        .with.property('code', 'BITBUCKET.UNKNOWN_EVENT');
    });
  });
});
