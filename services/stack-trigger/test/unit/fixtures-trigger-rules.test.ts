import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { normalize, type CanonicalEvent } from '@stacklink/events';
import { decideTriggers } from '../../src/domain/decide-triggers';
import { pushInput, stack } from '../support/events';

/** For a push, the same files for every ref; a pull request's changes otherwise. */
const withFiles: typeof pushInput = (input) => (input.event.type === 'push' ? pushInput(input) : input);

const DIR = join(__dirname, '../../../../../../shared/fixtures/bitbucket-dc/webhooks');

/** The canonical event of a fixture; undefined for fixtures the gateway ignores or rejects (never published). */
function eventFrom(file: string): CanonicalEvent | undefined {
  const body = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as { eventKey?: string };
  if (typeof body.eventKey !== 'string') return undefined;
  try {
    const result = normalize({
      eventKey: body.eventKey,
      deliveryId: `d-${file}`,
      integrationId: 'int-1',
      receivedAt: new Date(0),
      body,
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

describe('trigger rules over every Bitbucket fixture, through the libs/events normalizer', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));
  for (const file of files) {
    const event = eventFrom(file);
    if (event === undefined) continue;
    it(`${file} (${event.type}) follows the rules of DESIGN.md §7`, () => {
      const d = decideTriggers(
        withFiles({ event, stacks: [stackFor(event)], changedFiles: { paths: [], truncated: true } }),
      );
      const commits = new Set(d.runs.map((r) => `${r.stackId}/${r.commit}/${r.type}`));
      expect(commits.size).to.equal(d.runs.length);
      switch (event.type) {
        case 'push': {
          const live = event.push.changes.filter((c) => c.action !== 'deleted' && c.refType === 'branch');
          expect(d.runs.map((r) => r.commit)).to.have.members([...new Set(live.map((c) => c.after))]);
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

  it('starts nothing for the fork pull request fixture unless the stack allows forks', () => {
    const event = eventFrom('woodpecker-pr_opened-from-fork.json')!;
    const files = { paths: [], truncated: true };
    expect(decideTriggers({ event, stacks: [stackFor(event)], changedFiles: files }).runs).to.be.empty;
    expect(
      decideTriggers({ event, stacks: [stackFor(event, { allowForks: true })], changedFiles: files }).runs,
    ).to.have.length(1);
  });

  it('starts a tag run from the tag fixture only when the stack triggers on tags', () => {
    const event = eventFrom('go-scm-repo_refs_changed-tag-create.json')!;
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
