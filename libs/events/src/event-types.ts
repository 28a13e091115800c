/**
 * Version of the canonical event schema. Changes within a version are additive only
 * (docs/architecture.md §6).
 */
export const SPEC_VERSION = 1;

/** The only provider so far; also the first segment of every routing key. */
export const PROVIDER = 'bitbucket-dc';

/** Every canonical event type of specVersion 1 (docs/architecture.md §6), in catalogue order. */
export const EVENT_TYPES = [
  'push',
  'pull_request.opened',
  'pull_request.source_updated',
  'pull_request.modified',
  'pull_request.reviewer_approved',
  'pull_request.reviewer_unapproved',
  'pull_request.reviewer_needs_work',
  'pull_request.merged',
  'pull_request.declined',
  'pull_request.deleted',
  'pull_request.comment_added',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export type PullRequestEventType = Exclude<EventType, 'push'>;

export type ReviewEventType =
  'pull_request.reviewer_approved' | 'pull_request.reviewer_unapproved' | 'pull_request.reviewer_needs_work';

/**
 * The Bitbucket `X-Event-Key` that produces each type. One key per type, so this is also the list of
 * keys a webhook must subscribe to.
 */
export const EVENT_KEY_BY_TYPE: Readonly<Record<EventType, string>> = Object.freeze({
  push: 'repo:refs_changed',
  'pull_request.opened': 'pr:opened',
  'pull_request.source_updated': 'pr:from_ref_updated',
  'pull_request.modified': 'pr:modified',
  'pull_request.reviewer_approved': 'pr:reviewer:approved',
  'pull_request.reviewer_unapproved': 'pr:reviewer:unapproved',
  'pull_request.reviewer_needs_work': 'pr:reviewer:needs_work',
  'pull_request.merged': 'pr:merged',
  'pull_request.declined': 'pr:declined',
  'pull_request.deleted': 'pr:deleted',
  'pull_request.comment_added': 'pr:comment:added',
});

/** The Bitbucket event keys to subscribe a webhook to: exactly the keys that map to a type. */
export const SUBSCRIBED_EVENT_KEYS: readonly string[] = Object.freeze(
  EVENT_TYPES.map((t) => EVENT_KEY_BY_TYPE[t]),
);

// A Map, not an object, so header values such as `constructor` or `__proto__` never hit a prototype.
const TYPE_BY_EVENT_KEY: ReadonlyMap<string, EventType> = new Map(
  EVENT_TYPES.map((t) => [EVENT_KEY_BY_TYPE[t], t] as const),
);

/** The canonical type for a Bitbucket `X-Event-Key`, or undefined when we do not handle that key. */
export function eventTypeForKey(eventKey: string): EventType | undefined {
  return TYPE_BY_EVENT_KEY.get(eventKey);
}

/**
 * Keys Bitbucket sends that we know and deliberately do not turn into events, with why. Any other key
 * is ignored too, with a generic reason.
 */
export const IGNORED_EVENT_KEYS: ReadonlyMap<string, string> = new Map([
  // Bitbucket's "Test connection" button; the body is only {"test": true} — the gateway answers it
  // before signature checks because Bitbucket sends it unsigned (docs/architecture.md §5).
  ['diagnostics:ping', 'a connection test, not an event'],
  // A mirror finished syncing: the primary already sent repo:refs_changed for the same push.
  ['mirror:repo_synchronized', 'repeats a push the primary server already sent'],
  ['repo:modified', 'a renamed repository starts nothing'],
  ['repo:forked', 'a new fork starts nothing'],
  ['repo:comment:added', 'commit comments start nothing'],
  ['repo:comment:edited', 'commit comments start nothing'],
  ['repo:comment:deleted', 'commit comments start nothing'],
  // Only a new comment can be a /stacklink command (docs/architecture.md §7).
  ['pr:comment:edited', 'only new pull request comments are commands'],
  ['pr:comment:deleted', 'only new pull request comments are commands'],
  ['pr:reviewer:updated', 'reviewer list changes start nothing'],
]);
