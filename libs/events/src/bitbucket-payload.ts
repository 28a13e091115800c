import Joi from 'joi';
import { compiledChecks } from './compiled-check';
import type { EventType } from './event-types';

/*
 * The parts of Bitbucket Data Center webhook bodies the normalizer reads, and nothing else: every
 * object accepts unknown keys, because payloads grow with each Bitbucket version (5.x–10.x; our own
 * fixtures in libs/fixtures show each variant). Differences between versions these schemas allow:
 * dates as epoch milliseconds or ISO-8601 strings (`+0000` offsets included); `commits`, `toCommit`
 * and `links` present or not; `links.self` holding `[null]` (Atlassian's own samples); an empty
 * `changes` list; fork pull requests (source repository ≠ target repository); tags as pull request
 * sources; annotated tags, whose `toHash` is the tag object.
 */

/** A date in a payload: epoch milliseconds (older servers) or an ISO-8601 string (newer servers). */
export type PayloadInstant = number | string;

export interface PayloadUser {
  id: number;
  name: string;
  slug: string;
  displayName?: string;
}

export interface PayloadRepository {
  id: number;
  slug: string;
  name: string;
  project: { key: string };
}

export interface PayloadChange {
  ref?: { id: string; type?: string };
  refId?: string;
  fromHash: string;
  toHash: string;
  type: 'ADD' | 'UPDATE' | 'DELETE';
}

export interface PayloadPullRequestRef {
  id: string;
  latestCommit: string;
  repository: PayloadRepository;
}

export interface PayloadPullRequest {
  id: number;
  version: number;
  title: string;
  state: 'OPEN' | 'MERGED' | 'DECLINED';
  draft?: boolean;
  author: { user: PayloadUser };
  fromRef: PayloadPullRequestRef;
  toRef: PayloadPullRequestRef;
  links?: { self?: ({ href?: string } | null)[] };
}

export type PayloadReviewStatus = 'APPROVED' | 'UNAPPROVED' | 'NEEDS_WORK';

/** Every field any supported body may carry; which ones are required depends on the event key. */
export interface BitbucketPayload {
  date?: PayloadInstant;
  actor: PayloadUser;
  repository?: PayloadRepository;
  changes?: PayloadChange[];
  pullRequest?: PayloadPullRequest;
  previousFromHash?: string;
  previousTarget?: { id: string; latestCommit?: string; latestChangeset?: string };
  participant?: { user: PayloadUser };
  previousStatus?: PayloadReviewStatus;
  comment?: { id: number; text: string; author: PayloadUser };
  commentParentId?: number;
}

/*
 * Every string the event carries has a bound (docs/architecture.md §12): Bitbucket's own limits where it
 * has them, a generous one elsewhere. A value over one is a 400 naming the field, so nothing a delivery
 * carries can reach an AMQP header or a log line unbounded. Checked by the same single pass as the rest.
 */
export const STRING_BOUNDS = Object.freeze({
  projectKey: 128,
  slug: 128,
  ref: 1024,
  title: 255,
  comment: 32 * 1024,
  /** Repository names, user names, slugs and display names. */
  name: 255,
  refType: 32,
  url: 2048,
});
const B = STRING_BOUNDS;

// Hashes are compared case-sensitively downstream, so upper-case hex is refused rather than guessed.
const hash = Joi.string().pattern(/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/, 'commit hash');
const id = Joi.number().integer().min(0);
const instant = Joi.alternatives(Joi.number().integer().min(0), Joi.string().isoDate());

const user = Joi.object({
  id: id.required(),
  name: Joi.string().min(1).max(B.name).required(),
  slug: Joi.string().min(1).max(B.name).required(),
  displayName: Joi.string().allow('').max(B.name),
});

const repository = Joi.object({
  id: id.required(),
  slug: Joi.string().min(1).max(B.slug).required(),
  name: Joi.string().min(1).max(B.name).required(),
  project: Joi.object({ key: Joi.string().min(1).max(B.projectKey).required() }).required(),
});

// Bitbucket sends both `ref.id` and the older `refId`; either is enough.
const change = Joi.object({
  ref: Joi.object({ id: Joi.string().min(1).max(B.ref).required(), type: Joi.string().max(B.refType) }),
  refId: Joi.string().min(1).max(B.ref),
  fromHash: hash.required(),
  toHash: hash.required(),
  type: Joi.string().valid('ADD', 'UPDATE', 'DELETE').required(),
}).or('ref', 'refId');

const pullRequestRef = Joi.object({
  id: Joi.string().min(1).max(B.ref).required(),
  latestCommit: hash.required(),
  repository: repository.required(),
});

const pullRequest = Joi.object({
  id: id.required(),
  version: id.required(),
  title: Joi.string().allow('').max(B.title).required(),
  state: Joi.string().valid('OPEN', 'MERGED', 'DECLINED').required(),
  draft: Joi.boolean(),
  author: Joi.object({ user: user.required() }).required(),
  fromRef: pullRequestRef.required(),
  toRef: pullRequestRef.required(),
  links: Joi.object({ self: Joi.array().items(Joi.object({ href: Joi.string().max(B.url) }).allow(null)) }),
});

const reviewStatus = Joi.string().valid('APPROVED', 'UNAPPROVED', 'NEEDS_WORK');

const common = Joi.object({ date: instant, actor: user.required() });

const pullRequestBody = common.keys({ pullRequest: pullRequest.required() });

const reviewBody = pullRequestBody.keys({
  participant: Joi.object({ user: user.required() }).required(),
  previousStatus: reviewStatus.required(),
});

const PAYLOAD_SCHEMAS: Readonly<Record<EventType, Joi.ObjectSchema>> = {
  push: common.keys({ repository: repository.required(), changes: Joi.array().items(change).required() }),
  'pull_request.opened': pullRequestBody,
  'pull_request.source_updated': pullRequestBody.keys({ previousFromHash: hash }),
  'pull_request.modified': pullRequestBody.keys({
    previousTarget: Joi.object({
      id: Joi.string().min(1).max(B.ref).required(),
      latestCommit: hash,
      latestChangeset: hash,
    }).or('latestCommit', 'latestChangeset'),
  }),
  'pull_request.reviewer_approved': reviewBody,
  'pull_request.reviewer_unapproved': reviewBody,
  'pull_request.reviewer_needs_work': reviewBody,
  'pull_request.merged': pullRequestBody,
  'pull_request.declined': pullRequestBody,
  'pull_request.deleted': pullRequestBody,
  'pull_request.comment_added': pullRequestBody.keys({
    comment: Joi.object({
      id: id.required(),
      text: Joi.string().allow('').max(B.comment).required(),
      author: user.required(),
    }).required(),
    commentParentId: id,
  }),
};

/** The joi schema for the body Bitbucket sends with the event key of this type. */
export function payloadSchemaFor(type: EventType): Joi.ObjectSchema {
  return PAYLOAD_SCHEMAS[type];
}

/**
 * A compiled check of the same schema: true means joi would accept the body as it is; false means
 * "ask joi", which names the field or converts what it may (see compiled-check.ts).
 */
export const payloadCheckFor = compiledChecks((type: EventType) => PAYLOAD_SCHEMAS[type], {
  allowUnknown: true,
});
