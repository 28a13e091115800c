import type {
  CanonicalEvent,
  PullRequestCommentEvent,
  PullRequestDetails,
  PullRequestEvent,
  PullRequestReviewEvent,
  PushChange,
  PushEvent,
} from '../../src/domain/canonical-event';
import type { TriggerInput } from '../../src/domain/decide-triggers';
import type { NewStack, Stack } from '../../src/domain/model';

/** Canonical events (docs/architecture.md §6) built by hand, shaped like the normalizer's output. */
const user = { id: 1, slug: 'admin', name: 'admin', displayName: 'Administrator' };
export const REPO = { projectKey: 'PRJ', slug: 'infra', id: 1, name: 'infra' };
export const SHA = (n: number): string => n.toString(16).padStart(40, '0').replace(/^0/, 'a');

let counter = 0;
function envelope<T extends CanonicalEvent['type']>(type: T) {
  counter += 1;
  return {
    specVersion: 1 as const,
    id: `00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`,
    provider: 'bitbucket-dc' as const,
    integrationId: 'int-1',
    type,
    deliveryId: `delivery-${counter}`,
    receivedAt: '2024-01-01T00:00:00.000Z',
    occurredAt: '2024-01-01T00:00:00.000Z',
    actor: user,
    repository: REPO,
  };
}

/** A push with the given ref changes; with none, one update of refs/heads/main. */
export function pushEvent(...given: Partial<PushChange>[]): PushEvent {
  const changes = given.length === 0 ? [{}] : given;
  return {
    ...envelope('push'),
    push: {
      changes: changes.map((c) => ({
        ref: 'refs/heads/main',
        refType: 'branch',
        action: 'updated',
        before: SHA(1),
        after: SHA(2),
        ...c,
      })),
    },
  };
}

export function pullRequest(overrides: Partial<PullRequestDetails> = {}): PullRequestDetails {
  return {
    id: 7,
    version: 1,
    title: 'Change infra',
    state: 'open',
    draft: false,
    author: user,
    source: { ref: 'refs/heads/feature', commit: SHA(10), repository: { projectKey: 'PRJ', slug: 'infra' } },
    target: { ref: 'refs/heads/main', commit: SHA(2), repository: { projectKey: 'PRJ', slug: 'infra' } },
    ...overrides,
  };
}

export function prEvent(
  type: PullRequestEvent['type'],
  overrides: Partial<PullRequestDetails> = {},
): PullRequestEvent {
  return { ...envelope(type), pullRequest: pullRequest(overrides) };
}

export function reviewEvent(type: PullRequestReviewEvent['type']): PullRequestReviewEvent {
  return {
    ...envelope(type),
    pullRequest: pullRequest(),
    review: { reviewer: user, status: 'approved', previousStatus: 'unapproved' },
  };
}

export function commentEvent(
  text: string,
  overrides: Partial<PullRequestDetails> = {},
): PullRequestCommentEvent {
  return {
    ...envelope('pull_request.comment_added'),
    pullRequest: pullRequest(overrides),
    comment: { id: 99, text, author: user },
  };
}

/** What a test passes to `stacks.create`: stack `prod` on PRJ/infra, branch main, at `infra/prod`. */
export function stackInput(overrides: Partial<NewStack> = {}): NewStack {
  return {
    name: 'prod',
    integrationId: 'int-1',
    repository: { projectKey: 'PRJ', slug: 'infra' },
    branch: 'main',
    projectRoot: 'infra/prod',
    additionalProjectGlobs: [],
    triggerOnTags: false,
    allowForks: false,
    labels: [],
    ...overrides,
  };
}

export function stack(overrides: Partial<Stack> = {}): Stack {
  return {
    id: 'stack-a',
    ...stackInput(),
    prComments: false,
    enabled: true,
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
    ...overrides,
  };
}

export const files = (...paths: string[]) => ({ paths, truncated: false });

/**
 * A push's trigger input with `changedFiles` given as what EVERY ref of the push changed (each run on
 * its `after`): the shape of most single-ref tests. Other events are returned as they are.
 */
export function pushInput(input: TriggerInput): TriggerInput {
  const { changedFiles, ...rest } = input;
  if (input.event.type !== 'push' || changedFiles === undefined) return input;
  return {
    ...rest,
    refChanges: input.event.push.changes
      .filter((c) => c.after !== null)
      .map((c) => ({ ref: c.ref, commit: c.after!, files: changedFiles })),
  };
}
