import { expect } from 'chai';
import { normalize, type CanonicalEvent } from '@stacklink/events';
import { ownCorpus, ownWebhook, readJson, type WebhookFixture } from '@stacklink/fixtures';
import { describePublicCorpus } from '@stacklink/testing';
import { decideTriggers } from '../../src/domain/decide-triggers';
import { pushInput, stack } from '../support/events';

/** For a push, the same files for every ref; a pull request's changes otherwise. */
const withFiles: typeof pushInput = (input) => (input.event.type === 'push' ? pushInput(input) : input);

/** The canonical event of a fixture; undefined for fixtures the gateway ignores or rejects (never published). */
function eventFrom(fixture: WebhookFixture): CanonicalEvent | undefined {
  try {
    const result = normalize({
      eventKey: fixture.eventKey,
      deliveryId: `d-${fixture.file}`,
      integrationId: 'int-1',
      receivedAt: new Date(0),
      body: readJson(fixture),
    });
    return result.kind === 'event' ? result.event : undefined;
  } catch {
    return undefined;
  }
}

/** A stack on the event's own repository and target branch, covering the whole repository. */
function stackFor(event: CanonicalEvent, overrides: Parameters<typeof stack>[0] = {}) {
  const branch =
    'pullRequest' in event ? event.pullRequest.target.ref : (event.push.changes[0]?.ref ?? 'refs/heads/main');
  return stack({
    repository: { projectKey: event.repository.projectKey, slug: event.repository.slug },
    branch,
    projectRoot: '',
    ...overrides,
  });
}

/** One test per fixture that becomes an event: the default trigger rules hold for it. */
function followsTheRules(fixtures: WebhookFixture[]): void {
  for (const fixture of fixtures) {
    const event = eventFrom(fixture);
    if (event === undefined) continue;
    it(`${fixture.file} (${event.type}) follows the rules of docs/architecture.md §7`, () => {
      const d = decideTriggers(
        withFiles({ event, stacks: [stackFor(event)], changedFiles: { paths: [], truncated: true } }),
      );
      const commits = new Set(d.runs.map((r) => `${r.stackId}/${r.commit}/${r.type}`));
      expect(commits.size).to.equal(d.runs.length);
      switch (event.type) {
        case 'push': {
          // The stack tracks the first ref: its commit gets a tracked run, other branches proposed runs
          // (two branches at one commit make two runs of different types, never two of one type).
          const live = event.push.changes.filter((c) => c.action !== 'deleted' && c.refType === 'branch');
          const tracked = event.push.changes[0]?.ref;
          const expected = live.map((c) => `${c.ref === tracked ? 'tracked' : 'proposed'} ${c.after}`);
          expect(d.runs.map((r) => `${r.type} ${r.commit}`)).to.have.members([...new Set(expected)]);
          if (live.length > 0) expect(d.runs[0]!.type).to.equal('tracked');
          break;
        }
        case 'pull_request.opened':
        case 'pull_request.source_updated': {
          const fork =
            event.pullRequest.source.repository.projectKey.toUpperCase() !==
              event.repository.projectKey.toUpperCase() ||
            event.pullRequest.source.repository.slug.toLowerCase() !== event.repository.slug.toLowerCase();
          if (fork || event.pullRequest.state !== 'open') expect(d.runs).to.be.empty;
          else
            expect(d.runs.map((r) => [r.type, r.commit])).to.deep.equal([
              ['proposed', event.pullRequest.source.commit],
            ]);
          break;
        }
        case 'pull_request.declined':
        case 'pull_request.deleted':
          expect(d.runs).to.be.empty;
          expect(d.cancel[0]!.pullRequestId).to.equal(event.pullRequest.id);
          break;
        case 'pull_request.comment_added':
          expect(d.runs).to.be.empty;
          break;
        default:
          if (event.type !== 'pull_request.modified') expect(d.runs).to.be.empty;
      }
    });
  }
}

describe('trigger rules over every Bitbucket fixture, through the libs/events normalizer', () => {
  describe('our own corpus', () => followsTheRules(ownCorpus().webhooks));

  describePublicCorpus('bitbucket-dc', 'the public corpus of captures', (corpus) =>
    followsTheRules(corpus.webhooks),
  );

  describePublicCorpus('bitbucket-dc-more', 'the second public corpus of captures', (corpus) =>
    followsTheRules(corpus.webhooks),
  );

  it('starts nothing for the fork pull request fixture unless the stack allows forks', () => {
    const event = eventFrom(ownWebhook('pr-opened-fork-project.json'))!;
    const files = { paths: [], truncated: true };
    expect(decideTriggers({ event, stacks: [stackFor(event)], changedFiles: files }).runs).to.be.empty;
    expect(
      decideTriggers({ event, stacks: [stackFor(event, { allowForks: true })], changedFiles: files }).runs,
    ).to.have.length(1);
  });

  it('starts a tag run from the tag fixture only when the stack triggers on tags', () => {
    const event = eventFrom(ownWebhook('push-tag-created-lightweight.json'))!;
    const files = { paths: [], truncated: true };
    const s = stack({
      repository: { projectKey: event.repository.projectKey, slug: event.repository.slug },
      projectRoot: '',
    });
    expect(decideTriggers(withFiles({ event, stacks: [s], changedFiles: files })).runs).to.be.empty;
    expect(
      decideTriggers(withFiles({ event, stacks: [{ ...s, triggerOnTags: true }], changedFiles: files })).runs,
    ).to.have.length(1);
  });
});
