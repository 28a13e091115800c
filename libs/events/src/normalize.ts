import { randomUUID } from 'node:crypto';
import { AppError, isAppError } from '@stacklink/errors';
import type {
  CanonicalEvent,
  EventRepository,
  EventUser,
  PullRequestDetails,
  PullRequestSide,
  PushChange,
  ReviewStatus,
} from './canonical-event';
import {
  type BitbucketPayload,
  type PayloadChange,
  type PayloadInstant,
  type PayloadPullRequest,
  type PayloadPullRequestRef,
  type PayloadRepository,
  type PayloadReviewStatus,
  type PayloadUser,
  payloadCheckFor,
  payloadSchemaFor,
} from './bitbucket-payload';
import { toFieldErrors, validateEventOfType } from './event-schema';
import { type EventType, eventTypeForKey, IGNORED_EVENT_KEYS, PROVIDER, SPEC_VERSION } from './event-types';

export interface NormalizeInput {
  /** The `X-Event-Key` header. The body's `eventKey` is never read: mirror samples prove it lies. */
  eventKey: string;
  /** The `X-Request-Id` header. */
  deliveryId: string;
  integrationId: string;
  /** When the gateway received the delivery. */
  receivedAt: Date;
  /** The parsed JSON body. */
  body: unknown;
  /** Event id to use; a random UUID when absent. Tests and the catalogue pass one to stay stable. */
  id?: string;
}

export type NormalizeResult = { kind: 'event'; event: CanonicalEvent } | { kind: 'ignored'; reason: string };

/**
 * Turns one Bitbucket Data Center delivery into a canonical event, or says why it is ignored.
 * Pure apart from drawing a random id when none is given. Routes on the `X-Event-Key` header only
 * (docs/architecture.md §5). Throws `AppError('EVENT.INVALID_PAYLOAD')` (400, not retryable) naming the field
 * when the body of a supported event does not have what the event needs.
 */
export function normalize(input: NormalizeInput): NormalizeResult {
  const eventKey = input.eventKey;
  const type = eventTypeForKey(eventKey);
  if (type === undefined) {
    const why = IGNORED_EVENT_KEYS.get(eventKey) ?? 'not an event Stacklink handles';
    return { kind: 'ignored', reason: `${eventKey}: ${why}` };
  }
  const payload = parsePayload(type, eventKey, input.body);
  const event = buildEvent(type, payload, input);
  try {
    return { kind: 'event', event: validateEventOfType(type, event, { mode: 'producer' }) };
  } catch (err) {
    // The payload passed its own schema, so what fails here is delivery metadata or a mapping bug;
    // it still must not be published.
    if (isAppError(err)) {
      throw new AppError('EVENT.INVALID_PAYLOAD', `${eventKey} delivery: ${err.message}`, {
        status: 400,
        retryable: false,
        details: { eventKey, ...(err.details as object) },
        cause: err,
      });
    }
    throw err;
  }
}

function parsePayload(type: EventType, eventKey: string, body: unknown): BitbucketPayload {
  // Dates stay as sent on this path; buildEvent turns both date styles into the same instant.
  if (payloadCheckFor(type)(body)) return body as BitbucketPayload;
  const result = payloadSchemaFor(type).validate(body, { allowUnknown: true, abortEarly: false });
  if (result.error) {
    const errors = toFieldErrors(result.error);
    throw new AppError(
      'EVENT.INVALID_PAYLOAD',
      `invalid ${eventKey} payload: ${errors.map((e) => e.message).join('; ')}`,
      { status: 400, retryable: false, details: { eventKey, errors } },
    );
  }
  return result.value as BitbucketPayload;
}

function buildEvent(
  type: EventType,
  payload: BitbucketPayload,
  input: NormalizeInput,
): Record<string, unknown> {
  const receivedAt = input.receivedAt.toISOString();
  // Read only what the schema of this type checked: other keys pass through unvalidated.
  const pr = type === 'push' ? undefined : payload.pullRequest!;
  // One object, its sections added in place: spreading a ten-key envelope into a new object costs
  // more than everything else here (this runs for every delivery the gateway accepts).
  const event: Record<string, unknown> = {
    specVersion: SPEC_VERSION,
    id: input.id ?? randomUUID(),
    provider: PROVIDER,
    integrationId: input.integrationId,
    type,
    deliveryId: input.deliveryId,
    receivedAt,
    occurredAt: payload.date === undefined ? receivedAt : toIsoInstant(payload.date),
    actor: toUser(payload.actor),
    // A pull request lives in its target repository; that is where the webhook fired (for a fork PR,
    // the source repository is in pullRequest.source.repository).
    repository: toRepository(pr === undefined ? payload.repository! : pr.toRef.repository),
  };
  if (pr === undefined) {
    event.push = { changes: payload.changes!.map(toPushChange) };
    return event;
  }

  const pullRequest = toPullRequest(pr);
  if (type === 'pull_request.source_updated' && payload.previousFromHash !== undefined) {
    pullRequest.previousSourceCommit = payload.previousFromHash;
  }
  if (type === 'pull_request.modified' && payload.previousTarget !== undefined) {
    const previous = payload.previousTarget;
    pullRequest.previousTarget = {
      ref: previous.id,
      commit: (previous.latestCommit ?? previous.latestChangeset)!,
    };
  }
  event.pullRequest = pullRequest;
  switch (type) {
    case 'pull_request.reviewer_approved':
    case 'pull_request.reviewer_unapproved':
    case 'pull_request.reviewer_needs_work':
      event.review = {
        reviewer: toUser(payload.participant!.user),
        status: REVIEW_STATUS_BY_TYPE[type],
        previousStatus: toReviewStatus(payload.previousStatus!),
      };
      break;
    case 'pull_request.comment_added': {
      const comment = payload.comment!;
      const added: Record<string, unknown> = {
        id: comment.id,
        text: comment.text,
        author: toUser(comment.author),
      };
      if (payload.commentParentId !== undefined) added.parentId = payload.commentParentId;
      event.comment = added;
      break;
    }
  }
  return event;
}

// The status comes from the routed type, not from the body, so the event means what its routing key says.
const REVIEW_STATUS_BY_TYPE: Readonly<Record<string, ReviewStatus>> = {
  'pull_request.reviewer_approved': 'approved',
  'pull_request.reviewer_unapproved': 'unapproved',
  'pull_request.reviewer_needs_work': 'needs_work',
};

function toReviewStatus(status: PayloadReviewStatus): ReviewStatus {
  return status.toLowerCase() as ReviewStatus;
}

/** Epoch milliseconds and ISO-8601 strings for the same instant give the same string. */
function toIsoInstant(value: PayloadInstant): string {
  return new Date(value).toISOString();
}

function toUser(user: PayloadUser): EventUser {
  return {
    id: user.id,
    slug: user.slug,
    name: user.name,
    displayName: user.displayName ?? user.name,
  };
}

function toRepository(repository: PayloadRepository): EventRepository {
  return {
    projectKey: repository.project.key,
    slug: repository.slug,
    id: repository.id,
    name: repository.name,
  };
}

const ZERO_HASH = /^0+$/;

const ACTION_BY_CHANGE_TYPE = { ADD: 'created', UPDATE: 'updated', DELETE: 'deleted' } as const;

function toPushChange(change: PayloadChange): PushChange {
  const ref = (change.ref?.id ?? change.refId)!;
  const refType = change.ref?.type?.toUpperCase();
  return {
    ref,
    // Older payloads may leave ref.type out; the ref name still tells a tag from a branch.
    refType: refType === 'TAG' || (refType !== 'BRANCH' && ref.startsWith('refs/tags/')) ? 'tag' : 'branch',
    action: ACTION_BY_CHANGE_TYPE[change.type],
    // Bitbucket writes 40 zeros for "no commit" (created / deleted refs); the canonical event says null.
    before: ZERO_HASH.test(change.fromHash) ? null : change.fromHash,
    after: ZERO_HASH.test(change.toHash) ? null : change.toHash,
  };
}

function toSide(ref: PayloadPullRequestRef): PullRequestSide {
  return {
    ref: ref.id,
    commit: ref.latestCommit,
    repository: { projectKey: ref.repository.project.key, slug: ref.repository.slug },
  };
}

function toPullRequest(pr: PayloadPullRequest): PullRequestDetails {
  // Atlassian's own samples send `links: {self: [null]}`: no usable link, not an error.
  const url = pr.links?.self?.map((link) => link?.href).find(isAbsoluteUrl);
  const details: PullRequestDetails = {
    id: pr.id,
    version: pr.version,
    title: pr.title,
    state: pr.state.toLowerCase() as PullRequestDetails['state'],
    // Drafts arrived in Bitbucket 8.x; earlier servers do not send the field.
    draft: pr.draft ?? false,
    author: toUser(pr.author.user),
    source: toSide(pr.fromRef),
    target: toSide(pr.toRef),
  };
  if (url !== undefined) details.url = url;
  return details;
}

// A link is a convenience for people; one that is not an absolute URL is dropped, not a reason to refuse.
function isAbsoluteUrl(href: string | undefined): href is string {
  if (href === undefined) return false;
  try {
    return new URL(href).protocol.startsWith('http');
  } catch {
    return false;
  }
}
