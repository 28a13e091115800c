import type { EventType, PullRequestEventType, ReviewEventType } from './event-types';

/**
 * A Bitbucket user as it appears in events: the one who acted, a pull request author, a reviewer, a
 * comment author.
 */
export interface EventUser {
  /** Bitbucket's numeric user id; stable across renames. */
  id: number;
  /** URL-safe user slug, as in `/users/{slug}`. */
  slug: string;
  /** Login name. */
  name: string;
  /** Name for people; Bitbucket's `displayName`, or `name` when a server leaves it out. */
  displayName: string;
}

/** The repository the event belongs to. For pull request events it is the target repository. */
export interface EventRepository {
  /** Project key, e.g. `PRJ`; personal projects start with `~` (e.g. `~jcitizen`). */
  projectKey: string;
  /** Repository slug, as in `/projects/{projectKey}/repos/{slug}`. */
  slug: string;
  /** Bitbucket's numeric repository id; stable across renames. */
  id: number;
  /** Repository name for people. */
  name: string;
}

/** A repository named only by project key and slug (the two sides of a pull request). */
export interface RepositoryRef {
  projectKey: string;
  slug: string;
}

/**
 * One ref changed by a push. A hash is a lower-case hex commit id (40 characters; 64 for SHA-256
 * repositories). Bitbucket writes 40 zeros for "no commit"; the canonical event writes `null` instead,
 * so a created ref has `before: null` and a deleted ref has `after: null`, and the type system makes a
 * consumer handle both before it asks Bitbucket about a commit.
 */
export interface PushChange {
  /** Full ref name, e.g. `refs/heads/main` or `refs/tags/v1.0`. */
  ref: string;
  /** From Bitbucket's `ref.type` (BRANCH / TAG), or `tag` when the ref starts with `refs/tags/`. */
  refType: 'branch' | 'tag';
  /** From Bitbucket's change `type`: ADD → created, UPDATE → updated, DELETE → deleted. */
  action: 'created' | 'updated' | 'deleted';
  /** The ref's previous target (`fromHash`); null when the ref was created. */
  before: string | null;
  /**
   * The ref's new target (`toHash`); null when the ref was deleted. For an annotated tag this is the
   * id of the tag object, not of the commit it points to (that is how git and Bitbucket report it).
   */
  after: string | null;
}

/** `push` section: every ref of the push, in the order Bitbucket listed them. May be empty. */
export interface PushDetails {
  changes: PushChange[];
}

/** One side (source or target) of a pull request. */
export interface PullRequestSide {
  /** Full ref name, e.g. `refs/heads/feature/x` (a source may also be a tag, `refs/tags/v1`). */
  ref: string;
  /** The commit the ref pointed at when the event happened (Bitbucket's `latestCommit`). */
  commit: string;
  /** The repository of this side; the two sides differ for a pull request from a fork. */
  repository: RepositoryRef;
}

/** A ref and the commit it pointed at; used for the previous target of a retargeted pull request. */
export interface RefAtCommit {
  ref: string;
  commit: string;
}

/** `pullRequest` section, present on every `pull_request.*` event. */
export interface PullRequestDetails {
  /** Pull request id, unique within the target repository. */
  id: number;
  /** Bitbucket's optimistic-locking version of the pull request. */
  version: number;
  title: string;
  /** State after the event; Bitbucket's OPEN / MERGED / DECLINED in lower case. */
  state: 'open' | 'merged' | 'declined';
  /** True for a draft pull request; false when Bitbucket does not send the field (before 8.x). */
  draft: boolean;
  author: EventUser;
  /** Link to the pull request in Bitbucket (`links.self[0].href`), when Bitbucket sends one. */
  url?: string;
  source: PullRequestSide;
  target: PullRequestSide;
  /** `pull_request.source_updated` only: the source commit before the update (`previousFromHash`). */
  previousSourceCommit?: string;
  /**
   * `pull_request.modified` only: the target before the modification. Bitbucket sends it on every
   * modification; it differs from `target` only when the pull request was retargeted.
   */
  previousTarget?: RefAtCommit;
}

export type ReviewStatus = 'approved' | 'unapproved' | 'needs_work';

/** `review` section, present on `pull_request.reviewer_*` events. */
export interface ReviewDetails {
  /** The reviewer whose status changed (Bitbucket's `participant.user`). */
  reviewer: EventUser;
  /** The new status; it is what the event type says. */
  status: ReviewStatus;
  /** The status before the change (Bitbucket's `previousStatus`, lower case). */
  previousStatus: ReviewStatus;
}

/** `comment` section, present on `pull_request.comment_added`. */
export interface CommentDetails {
  /** Bitbucket's comment id. */
  id: number;
  /** Markdown text of the comment, as written. */
  text: string;
  author: EventUser;
  /** Id of the comment this one replies to (Bitbucket's `commentParentId`), when it is a reply. */
  parentId?: number;
}

/** The fields every canonical event has. */
export interface EventEnvelope<T extends EventType = EventType> {
  /** Schema version; always 1 for these types. A breaking change is published as a new version. */
  specVersion: 1;
  /** Event id (UUID), also the AMQP `messageId`. */
  id: string;
  provider: 'bitbucket-dc';
  /** The Stacklink integration (Bitbucket server) the webhook was delivered for. */
  integrationId: string;
  type: T;
  /** Bitbucket's `X-Request-Id` header: one per delivery, the key for dedup. */
  deliveryId: string;
  /** When the gateway received the delivery; ISO-8601 UTC with milliseconds. */
  receivedAt: string;
  /**
   * When it happened in Bitbucket (body `date`, ISO-8601 or epoch milliseconds depending on the
   * Bitbucket version), as ISO-8601 UTC with milliseconds; `receivedAt` when Bitbucket sends no date.
   */
  occurredAt: string;
  /** Who caused the event. */
  actor: EventUser;
  /** Where it happened; the target repository for pull request events. */
  repository: EventRepository;
}

export interface PushEvent extends EventEnvelope<'push'> {
  push: PushDetails;
}

/** The pull request types that carry only the `pullRequest` section. */
export type PlainPullRequestEventType = Exclude<
  PullRequestEventType,
  ReviewEventType | 'pull_request.comment_added'
>;

export interface PullRequestEvent<
  T extends PlainPullRequestEventType = PlainPullRequestEventType,
> extends EventEnvelope<T> {
  pullRequest: PullRequestDetails;
}

export interface PullRequestReviewEvent<
  T extends ReviewEventType = ReviewEventType,
> extends EventEnvelope<T> {
  pullRequest: PullRequestDetails;
  review: ReviewDetails;
}

export interface PullRequestCommentEvent extends EventEnvelope<'pull_request.comment_added'> {
  pullRequest: PullRequestDetails;
  comment: CommentDetails;
}

/** Any canonical event of specVersion 1, discriminated by `type`. */
export type CanonicalEvent =
  | PushEvent
  | PullRequestEvent<'pull_request.opened'>
  | PullRequestEvent<'pull_request.source_updated'>
  | PullRequestEvent<'pull_request.modified'>
  | PullRequestEvent<'pull_request.merged'>
  | PullRequestEvent<'pull_request.declined'>
  | PullRequestEvent<'pull_request.deleted'>
  | PullRequestReviewEvent<'pull_request.reviewer_approved'>
  | PullRequestReviewEvent<'pull_request.reviewer_unapproved'>
  | PullRequestReviewEvent<'pull_request.reviewer_needs_work'>
  | PullRequestCommentEvent;

/** The event interface for one type, e.g. `EventOfType<'push'>` is `PushEvent`. */
export type EventOfType<T extends EventType> = Extract<CanonicalEvent, { type: T }>;
