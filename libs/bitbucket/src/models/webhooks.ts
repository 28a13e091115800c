import { AppError } from '@stacklink/errors';
import {
  parseComment,
  parseCommit,
  parseParticipant,
  parsePullRequest,
  parseRef,
  parseRepository,
  parseUser,
  type BitbucketDate,
  type Comment,
  type Commit,
  type Open,
  type Participant,
  type PullRequest,
  type Ref,
  type Repository,
  type User,
} from './rest';
import { each, nested, object, oneOf, optional, required, type Json, type Parser } from './validate';

/** One ref of a `repo:refs_changed` delivery. fromHash is 40 zeros on ADD, toHash on DELETE. */
export interface RefChange {
  ref: { id: string; displayId: string; type: Open<'BRANCH' | 'TAG'> };
  refId: string;
  fromHash: string;
  toHash: string;
  type: 'ADD' | 'UPDATE' | 'DELETE';
}

interface Envelope {
  eventKey: string;
  date: BitbucketDate;
  actor: User;
}

export interface RefsChangedPayload extends Envelope {
  repository: Repository;
  changes: RefChange[];
  /** Bitbucket 7+: the new head commit (for annotated tags, the peeled commit) and recent commits. */
  toCommit?: Commit;
  commits?: Commit[];
}

export interface MirrorSynchronizedPayload extends Omit<Envelope, 'actor'> {
  actor?: User;
  repository: Repository;
  changes: RefChange[];
  mirrorServer?: { id: string; name: string };
  syncType?: string;
  refLimitExceeded?: boolean;
}

export interface PullRequestPayload extends Envelope {
  pullRequest: PullRequest;
}

export interface PullRequestSourceUpdatedPayload extends PullRequestPayload {
  previousFromHash: string;
}

export interface PullRequestModifiedPayload extends PullRequestPayload {
  previousTitle?: string;
  previousDescription?: string | null;
  /** The target before the change; differs from pullRequest.toRef when the PR was retargeted. */
  previousTarget?: Ref;
}

export interface PullRequestReviewerPayload extends PullRequestPayload {
  participant: Participant;
  previousStatus: string;
}

export interface PullRequestReviewersUpdatedPayload extends PullRequestPayload {
  addedReviewers: User[];
  removedReviewers: User[];
}

export interface PullRequestCommentPayload extends PullRequestPayload {
  comment: Comment;
  commentParentId?: number;
  previousComment?: string;
}

export interface RepositoryCommentPayload extends Envelope {
  repository: Repository;
  comment: Comment;
  commit: string;
  previousComment?: string;
}

export interface RepositoryForkedPayload extends Envelope {
  repository: Repository;
}

export interface RepositoryModifiedPayload extends Envelope {
  old: Repository;
  new: Repository;
}

/** "Test connection" in Bitbucket's webhook settings: unsigned, body `{"test": true}`. */
export interface PingPayload {
  test?: boolean;
  [extra: string]: unknown;
}

export type WebhookEvent =
  | { eventKey: 'repo:refs_changed'; payload: RefsChangedPayload }
  | { eventKey: 'mirror:repo_synchronized'; payload: MirrorSynchronizedPayload }
  | {
      eventKey: 'pr:opened' | 'pr:merged' | 'pr:declined' | 'pr:deleted';
      payload: PullRequestPayload;
    }
  | { eventKey: 'pr:from_ref_updated'; payload: PullRequestSourceUpdatedPayload }
  | { eventKey: 'pr:modified'; payload: PullRequestModifiedPayload }
  | {
      eventKey: 'pr:reviewer:approved' | 'pr:reviewer:unapproved' | 'pr:reviewer:needs_work';
      payload: PullRequestReviewerPayload;
    }
  | { eventKey: 'pr:reviewer:updated'; payload: PullRequestReviewersUpdatedPayload }
  | {
      eventKey: 'pr:comment:added' | 'pr:comment:edited' | 'pr:comment:deleted';
      payload: PullRequestCommentPayload;
    }
  | {
      eventKey: 'repo:comment:added' | 'repo:comment:edited' | 'repo:comment:deleted';
      payload: RepositoryCommentPayload;
    }
  | { eventKey: 'repo:forked'; payload: RepositoryForkedPayload }
  | { eventKey: 'repo:modified'; payload: RepositoryModifiedPayload }
  | { eventKey: 'diagnostics:ping'; payload: PingPayload };

export type WebhookEventKey = WebhookEvent['eventKey'];

const REF_CHANGE_TYPES = ['ADD', 'UPDATE', 'DELETE'] as const;

const parseRefChange: Parser<RefChange> = (v, p = '') => {
  const o = object(v, p);
  const ref = object(o.ref, `${p}.ref`);
  required(ref, 'id', 'string', `${p}.ref`);
  required(ref, 'displayId', 'string', `${p}.ref`);
  required(ref, 'type', 'string', `${p}.ref`);
  required(o, 'refId', 'string', p);
  required(o, 'fromHash', 'string', p);
  required(o, 'toHash', 'string', p);
  oneOf(o, 'type', REF_CHANGE_TYPES, p);
  return o as unknown as RefChange;
};

function envelope(v: unknown, p: string, actor: 'required' | 'optional' = 'required'): Json {
  const o = object(v, p);
  required(o, 'eventKey', 'string', p);
  required(o, 'date', 'date', p);
  nested(o, 'actor', parseUser, p, actor === 'optional');
  return o;
}

function refsChanged(v: unknown, p: string): RefsChangedPayload {
  const o = envelope(v, p);
  nested(o, 'repository', parseRepository, p);
  each(o, 'changes', parseRefChange, p);
  nested(o, 'toCommit', parseCommit, p, true);
  each(o, 'commits', parseCommit, p, true);
  return o as unknown as RefsChangedPayload;
}

function mirrorSynchronized(v: unknown, p: string): MirrorSynchronizedPayload {
  const o = envelope(v, p, 'optional');
  nested(o, 'repository', parseRepository, p);
  each(o, 'changes', parseRefChange, p);
  optional(o, 'refLimitExceeded', 'boolean', p);
  return o as unknown as MirrorSynchronizedPayload;
}

function pullRequest(v: unknown, p: string): Json {
  const o = envelope(v, p);
  nested(o, 'pullRequest', parsePullRequest, p);
  return o;
}

function sourceUpdated(v: unknown, p: string): PullRequestSourceUpdatedPayload {
  const o = pullRequest(v, p);
  required(o, 'previousFromHash', 'string', p);
  return o as unknown as PullRequestSourceUpdatedPayload;
}

function modified(v: unknown, p: string): PullRequestModifiedPayload {
  const o = pullRequest(v, p);
  optional(o, 'previousTitle', 'string', p);
  optional(o, 'previousDescription', 'string', p);
  nested(o, 'previousTarget', parseRef, p, true);
  return o as unknown as PullRequestModifiedPayload;
}

function reviewer(v: unknown, p: string): PullRequestReviewerPayload {
  const o = pullRequest(v, p);
  nested(o, 'participant', parseParticipant, p);
  required(o, 'previousStatus', 'string', p);
  return o as unknown as PullRequestReviewerPayload;
}

function reviewersUpdated(v: unknown, p: string): PullRequestReviewersUpdatedPayload {
  const o = pullRequest(v, p);
  each(o, 'addedReviewers', parseUser, p);
  each(o, 'removedReviewers', parseUser, p);
  return o as unknown as PullRequestReviewersUpdatedPayload;
}

function prComment(v: unknown, p: string): PullRequestCommentPayload {
  const o = pullRequest(v, p);
  nested(o, 'comment', parseComment, p);
  optional(o, 'commentParentId', 'integer', p);
  optional(o, 'previousComment', 'string', p);
  return o as unknown as PullRequestCommentPayload;
}

function repoComment(v: unknown, p: string): RepositoryCommentPayload {
  const o = envelope(v, p);
  nested(o, 'repository', parseRepository, p);
  nested(o, 'comment', parseComment, p);
  required(o, 'commit', 'string', p);
  return o as unknown as RepositoryCommentPayload;
}

function forked(v: unknown, p: string): RepositoryForkedPayload {
  const o = envelope(v, p);
  nested(o, 'repository', parseRepository, p);
  return o as unknown as RepositoryForkedPayload;
}

function repoModified(v: unknown, p: string): RepositoryModifiedPayload {
  const o = envelope(v, p);
  nested(o, 'old', parseRepository, p);
  nested(o, 'new', parseRepository, p);
  return o as unknown as RepositoryModifiedPayload;
}

function ping(v: unknown, p: string): PingPayload {
  const o = object(v, p);
  optional(o, 'test', 'boolean', p);
  return o;
}

const PARSERS: Record<WebhookEventKey, (v: unknown, p: string) => unknown> = {
  'repo:refs_changed': refsChanged,
  'mirror:repo_synchronized': mirrorSynchronized,
  'pr:opened': pullRequest,
  'pr:merged': pullRequest,
  'pr:declined': pullRequest,
  'pr:deleted': pullRequest,
  'pr:from_ref_updated': sourceUpdated,
  'pr:modified': modified,
  'pr:reviewer:approved': reviewer,
  'pr:reviewer:unapproved': reviewer,
  'pr:reviewer:needs_work': reviewer,
  'pr:reviewer:updated': reviewersUpdated,
  'pr:comment:added': prComment,
  'pr:comment:edited': prComment,
  'pr:comment:deleted': prComment,
  'repo:comment:added': repoComment,
  'repo:comment:edited': repoComment,
  'repo:comment:deleted': repoComment,
  'repo:forked': forked,
  'repo:modified': repoModified,
  'diagnostics:ping': ping,
};

/** Every event key this package has a model for. */
export const WEBHOOK_EVENT_KEYS = Object.keys(PARSERS) as WebhookEventKey[];

export function isWebhookEventKey(key: string): key is WebhookEventKey {
  return Object.prototype.hasOwnProperty.call(PARSERS, key);
}

/**
 * Parses a delivery body for the event key of its `X-Event-Key` header. Route on the header, never on
 * the body: the mirror-sync samples carry `"eventKey": "repo:refs_changed"` (fixtures/SOURCES.md).
 * Throws BITBUCKET.UNKNOWN_EVENT for keys without a model and BITBUCKET.INVALID_PAYLOAD for bodies
 * that do not match.
 */
export function parseWebhookPayload(eventKey: string, body: unknown): WebhookEvent {
  if (!isWebhookEventKey(eventKey)) {
    throw new AppError('BITBUCKET.UNKNOWN_EVENT', `no model for webhook event "${eventKey}"`, {
      status: 400,
      details: { eventKey },
    });
  }
  const payload = PARSERS[eventKey](body, '');
  return { eventKey, payload } as WebhookEvent;
}
