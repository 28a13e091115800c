import Joi from 'joi';
import { AppError } from '@stacklink/errors';
import type { CanonicalEvent } from './canonical-event';
import { STRING_BOUNDS as B } from './bitbucket-payload';
import { compileCheck, compiledChecks } from './compiled-check';
import { EVENT_TYPES, type EventType, PROVIDER, SPEC_VERSION } from './event-types';

/**
 * Lower-case hex commit id: 40 characters (SHA-1), or 64 for repositories in git's SHA-256 format.
 */
export const COMMIT_HASH = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

// What Date#toISOString writes for years 0000–9999; the only instant format a v1 producer emits.
// Every string it matches is a valid Date (checked for every month and day in the tests).
const INSTANT = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;

const instant = Joi.string().pattern(INSTANT, 'ISO-8601 UTC instant');
const hash = Joi.string().pattern(COMMIT_HASH, 'commit hash');
const nonEmpty = Joi.string().min(1);
// The bounds of docs/architecture.md §12, the same as the payload's: every string of the event has one.
const name = nonEmpty.max(B.name);
const ref = nonEmpty.max(B.ref);

const user = Joi.object({
  id: Joi.number().integer().min(0).required(),
  slug: name.required(),
  name: name.required(),
  displayName: Joi.string().allow('').max(B.name).required(),
});

const repositoryRef = Joi.object({
  projectKey: nonEmpty.max(B.projectKey).required(),
  slug: nonEmpty.max(B.slug).required(),
});

const repository = repositoryRef.keys({
  id: Joi.number().integer().min(0).required(),
  name: name.required(),
});

// Created refs have no `before`, deleted refs no `after`; updated refs have both.
const pushChange = Joi.object({
  ref: ref.required(),
  refType: Joi.string().valid('branch', 'tag').required(),
  action: Joi.string().valid('created', 'updated', 'deleted').required(),
  before: Joi.when('action', { is: 'created', then: Joi.valid(null), otherwise: hash }).required(),
  after: Joi.when('action', { is: 'deleted', then: Joi.valid(null), otherwise: hash }).required(),
});

const pullRequestSide = Joi.object({
  ref: ref.required(),
  commit: hash.required(),
  repository: repositoryRef.required(),
});

const pullRequest = Joi.object({
  id: Joi.number().integer().min(0).required(),
  version: Joi.number().integer().min(0).required(),
  title: Joi.string().allow('').max(B.title).required(),
  state: Joi.string().valid('open', 'merged', 'declined').required(),
  draft: Joi.boolean().required(),
  author: user.required(),
  // Bounded by the payload's `links.self[].href` (STRING_BOUNDS.url); a max() here would take the
  // leaf off the compiled check's uri shortcut on every pull request event.
  url: Joi.string().uri(),
  source: pullRequestSide.required(),
  target: pullRequestSide.required(),
  previousSourceCommit: hash,
  previousTarget: Joi.object({ ref: ref.required(), commit: hash.required() }),
});

const reviewStatus = Joi.string().valid('approved', 'unapproved', 'needs_work');

const envelope = Joi.object({
  specVersion: Joi.number().valid(SPEC_VERSION).required(),
  id: Joi.string().guid().required(),
  provider: Joi.string().valid(PROVIDER).required(),
  integrationId: nonEmpty.max(200).required(),
  type: Joi.string()
    .valid(...EVENT_TYPES)
    .required(),
  deliveryId: nonEmpty.max(200).required(),
  receivedAt: instant.required(),
  occurredAt: instant.required(),
  actor: user.required(),
  repository: repository.required(),
});

function withType(type: EventType, sections: Record<string, Joi.Schema>): Joi.ObjectSchema {
  return envelope.keys({ type: Joi.string().valid(type).required(), ...sections });
}

function pullRequestSchema(type: EventType): Joi.ObjectSchema {
  return withType(type, { pullRequest: pullRequest.required() });
}

function reviewSchema(type: EventType, status: string): Joi.ObjectSchema {
  return withType(type, {
    pullRequest: pullRequest.required(),
    review: Joi.object({
      reviewer: user.required(),
      status: Joi.string().valid(status).required(),
      previousStatus: reviewStatus.required(),
    }).required(),
  });
}

/** One joi schema per event type: the envelope plus the sections that type requires. */
export const EVENT_SCHEMAS: Readonly<Record<EventType, Joi.ObjectSchema>> = Object.freeze({
  push: withType('push', {
    push: Joi.object({ changes: Joi.array().items(pushChange).required() }).required(),
  }),
  'pull_request.opened': pullRequestSchema('pull_request.opened'),
  'pull_request.source_updated': pullRequestSchema('pull_request.source_updated'),
  'pull_request.modified': pullRequestSchema('pull_request.modified'),
  'pull_request.reviewer_approved': reviewSchema('pull_request.reviewer_approved', 'approved'),
  'pull_request.reviewer_unapproved': reviewSchema('pull_request.reviewer_unapproved', 'unapproved'),
  'pull_request.reviewer_needs_work': reviewSchema('pull_request.reviewer_needs_work', 'needs_work'),
  'pull_request.merged': pullRequestSchema('pull_request.merged'),
  'pull_request.declined': pullRequestSchema('pull_request.declined'),
  'pull_request.deleted': pullRequestSchema('pull_request.deleted'),
  'pull_request.comment_added': withType('pull_request.comment_added', {
    pullRequest: pullRequest.required(),
    comment: Joi.object({
      id: Joi.number().integer().min(0).required(),
      text: Joi.string().allow('').max(B.comment).required(),
      author: user.required(),
      parentId: Joi.number().integer().min(0),
    }).required(),
  }),
});

export interface ValidateEventOptions {
  /**
   * `producer`: the event must match the schema exactly (what we publish is what we document).
   * `consumer`: unknown extra keys are allowed anywhere, because a newer producer within the same
   * specVersion may add fields (docs/architecture.md §6: changes are additive within a version).
   */
  mode: 'producer' | 'consumer';
}

export interface FieldError {
  /** Path of the field, e.g. `pullRequest.source.commit` or `push.changes[0].after`. */
  path: string;
  message: string;
}

/** Maps joi's details to `{path, message}` pairs; the path is written as joi writes it in the message. */
export function toFieldErrors(error: Joi.ValidationError): FieldError[] {
  return error.details.map((d) => ({
    path: typeof d.context?.label === 'string' ? d.context.label : d.path.join('.'),
    message: d.message,
  }));
}

const BASE_FIELDS = Joi.object({
  specVersion: Joi.any().valid(SPEC_VERSION).required(),
  type: Joi.any()
    .valid(...EVENT_TYPES)
    .required(),
});

const producerCheck = compiledChecks((type: EventType) => EVENT_SCHEMAS[type], { allowUnknown: false });
const consumerCheck = compiledChecks((type: EventType) => EVENT_SCHEMAS[type], { allowUnknown: true });
let baseFields: ((value: unknown) => boolean) | undefined;
function baseFieldsCheck(): (value: unknown) => boolean {
  baseFields ??= compileCheck(BASE_FIELDS, { allowUnknown: true });
  return baseFields;
}

/**
 * Checks a canonical event against the schema of its type and returns it typed. Throws
 * `AppError('EVENT.INVALID')` (status 400, not retryable) whose message names the failing field.
 * Neither mode converts values: an event travels as JSON, so a field of the wrong type is an error.
 */
export function validateEvent(value: unknown, options: ValidateEventOptions): CanonicalEvent {
  if (baseFieldsCheck()(value)) {
    return validateEventOfType((value as { type: EventType }).type, value, options);
  }
  // specVersion and type first: they choose the schema, and a message about them is the useful one.
  const head = BASE_FIELDS.validate(value, { allowUnknown: true, convert: false });
  if (head.error) throw invalidEvent(head.error);
  return validateEventOfType((value as { type: EventType }).type, value, options);
}

/**
 * validateEvent for a caller that already knows the type (the normalizer, which just set it): the
 * schema of that type checks `type` and `specVersion` too, so only the separate head check is skipped.
 */
export function validateEventOfType(
  type: EventType,
  value: unknown,
  options: ValidateEventOptions,
): CanonicalEvent {
  // The compiled check answers for the common case; joi decides, and words the message, otherwise.
  if (options.mode === 'producer' ? producerCheck(type)(value) : consumerCheck(type)(value)) {
    return value as CanonicalEvent;
  }
  const result = EVENT_SCHEMAS[type].validate(value, {
    abortEarly: false,
    convert: false,
    allowUnknown: options.mode === 'consumer',
  });
  if (result.error) throw invalidEvent(result.error);
  return result.value as CanonicalEvent;
}

function invalidEvent(error: Joi.ValidationError): AppError {
  const errors = toFieldErrors(error);
  return new AppError('EVENT.INVALID', `invalid event: ${errors.map((e) => e.message).join('; ')}`, {
    status: 400,
    retryable: false,
    details: { errors },
  });
}
