import Joi from 'joi';
import { AppError } from '@stacklink/errors';
import { isBitbucketDate } from '../dates';

/** Reads a REST answer: returns the very value it was given once it has the shape of `T`, or throws. */
export type Parser<T> = (value: unknown, path?: string) => T;

type Json = Record<string, unknown>;

/** A known value, or another one a newer Bitbucket may send (keeps editor completion for the known ones). */
export type Open<T extends string> = T | (string & Record<never, never>);

/** Epoch milliseconds or an ISO-8601 string, depending on the Bitbucket version; see parseBitbucketDate. */
export type BitbucketDate = number | string;

export interface Link {
  href: string;
  name?: string;
}

export interface Links {
  self?: (Link | null)[];
  clone?: Link[];
  [rel: string]: unknown;
}

export interface User {
  name: string;
  emailAddress?: string;
  id?: number;
  displayName?: string;
  active?: boolean;
  slug?: string;
  type?: string;
  links?: Links;
}

/** Git author/committer: a Bitbucket user when it can map the e-mail, otherwise just name and e-mail. */
export interface Person {
  name: string;
  emailAddress?: string;
  [extra: string]: unknown;
}

export interface Project {
  key: string;
  id?: number;
  name?: string;
  description?: string;
  public?: boolean;
  type?: string;
  links?: Links;
}

export interface Repository {
  slug: string;
  id: number;
  name: string;
  project: Project;
  hierarchyId?: string;
  scmId?: string;
  state?: string;
  statusMessage?: string;
  forkable?: boolean;
  public?: boolean;
  archived?: boolean;
  description?: string;
  /** Present on forks: the repository this one was forked from. */
  origin?: Repository;
  links?: Links;
}

/** A branch or tag as the refs REST resources return it. */
export interface Ref {
  id: string;
  displayId: string;
  type?: Open<'BRANCH' | 'TAG'>;
  latestCommit?: string;
  latestChangeset?: string;
  isDefault?: boolean;
  /** Annotated tags: the tag object's sha (latestCommit is the peeled commit). */
  hash?: string | null;
}

export interface PullRequestRef {
  id: string;
  displayId?: string;
  latestCommit: string;
  type?: string;
  repository: Repository;
}

export type ParticipantStatus = 'APPROVED' | 'UNAPPROVED' | 'NEEDS_WORK';

export interface Participant {
  user: User;
  role?: Open<'AUTHOR' | 'REVIEWER' | 'PARTICIPANT'>;
  approved?: boolean;
  status?: Open<ParticipantStatus>;
  lastReviewedCommit?: string;
}

export type PullRequestState = 'OPEN' | 'MERGED' | 'DECLINED';

export interface PullRequest {
  id: number;
  version: number;
  title: string;
  description?: string;
  state: Open<PullRequestState>;
  open?: boolean;
  closed?: boolean;
  draft?: boolean;
  createdDate: BitbucketDate;
  updatedDate?: BitbucketDate;
  closedDate?: BitbucketDate;
  fromRef: PullRequestRef;
  toRef: PullRequestRef;
  locked?: boolean;
  author: Participant;
  reviewers?: Participant[];
  participants?: Participant[];
  properties?: Json;
  links?: Links;
}

export interface Path {
  components: string[];
  parent?: string;
  name?: string;
  extension?: string;
  toString: string;
}

export type ChangeType = Open<'ADD' | 'MODIFY' | 'DELETE' | 'MOVE' | 'COPY'>;

export interface Change {
  path: Path;
  /** The old path of a MOVE or COPY. */
  srcPath?: Path;
  type: ChangeType;
  nodeType?: Open<'FILE' | 'DIRECTORY' | 'SUBMODULE'>;
  contentId?: string;
  fromContentId?: string;
  executable?: boolean;
  srcExecutable?: boolean;
  percentUnchanged?: number;
  properties?: Json;
  links?: Links;
}

export interface Comment {
  id: number;
  version: number;
  text: string;
  author: User;
  createdDate: BitbucketDate;
  updatedDate?: BitbucketDate;
  comments?: Comment[];
  properties?: Json;
  parent?: { id: number };
}

export interface Commit {
  id: string;
  displayId?: string;
  author?: Person;
  authorTimestamp?: BitbucketDate;
  committer?: Person;
  committerTimestamp?: BitbucketDate;
  message?: string;
  parents?: { id: string; displayId?: string }[];
}

export type BuildState = 'INPROGRESS' | 'SUCCESSFUL' | 'FAILED' | 'CANCELLED' | 'UNKNOWN';

/** Body of a build-status POST (both APIs) and an item of the legacy list. */
export interface BuildStatus {
  key: string;
  state: BuildState;
  url: string;
  name?: string;
  description?: string;
  dateAdded?: BitbucketDate;
  duration?: number;
  buildNumber?: string;
  parent?: string;
  ref?: string;
}

/** Body of a Code Insights report PUT (Bitbucket 5.15+; `/rest/insights/1.0`). */
export interface InsightReportBody {
  title: string;
  details?: string;
  result?: 'PASS' | 'FAIL';
  reporter?: string;
  link?: string;
  logoUrl?: string;
  data?: { title: string; type: string; value: unknown }[];
}

/** One Code Insights annotation, as posted in bulk. */
export interface InsightAnnotationBody {
  path: string;
  line?: number;
  message: string;
  severity: 'LOW' | 'MEDIUM' | 'HIGH';
  link?: string;
  type?: 'VULNERABILITY' | 'CODE_SMELL' | 'BUG';
  externalId?: string;
}

export interface Webhook {
  id: number;
  name: string;
  url: string;
  active: boolean;
  events: string[];
  configuration?: Record<string, string>;
  createdDate?: BitbucketDate;
  updatedDate?: BitbucketDate;
  scopeType?: string;
  sslVerificationRequired?: boolean;
}

export interface WebhookRequest {
  name: string;
  url: string;
  events: string[];
  active?: boolean;
  configuration?: Record<string, string>;
}

/** One webhook invocation as the statistics resource reports it (Bitbucket 5.x+). */
export interface WebhookInvocation {
  id?: number;
  event?: string;
  start?: BitbucketDate;
  finish?: BitbucketDate;
  result?: { outcome?: string; description?: string };
}

/** `GET …/webhooks/{id}/statistics`: the last success, failure (the receiver answered an error) and error (it could not be reached). */
export interface WebhookStatistics {
  lastSuccess?: WebhookInvocation;
  lastFailure?: WebhookInvocation;
  lastError?: WebhookInvocation;
}

export interface Activity {
  id: number;
  action: string;
  createdDate?: BitbucketDate;
  user?: User;
  commentAction?: string;
  comment?: Comment;
}

export interface ApplicationProperties {
  version: string;
  buildNumber?: string;
  buildDate?: string;
  displayName?: string;
}

export interface Capabilities {
  application?: string;
  buildDate?: string;
  capabilities: Record<string, string>;
  links?: unknown;
}

export interface BuildCapabilitiesBody {
  buildStatus: string[];
}

export interface WebhookCapabilitiesBody {
  'application-webhooks': string[];
}

export interface BitbucketErrorItem {
  context: string | null;
  message: string;
  exceptionName: string | null;
}

export interface ErrorBody {
  errors: BitbucketErrorItem[];
}

/** Bitbucket's paged envelope. `nextPageStart` is absent (or null on some versions) on the last page. */
export interface Page<T> {
  values: T[];
  size?: number;
  limit?: number;
  start?: number;
  isLastPage: boolean;
  nextPageStart?: number | null;
}

/** Change pages of pull requests and commits also carry the compared commits. */
export interface ChangesPage extends Page<Change> {
  fromHash?: string;
  toHash?: string;
  properties?: Json;
}

export interface Diff {
  diffs: {
    source?: { toString: string } | null;
    destination?: { toString: string } | null;
    hunks?: unknown[];
  }[];
}

export interface BrowseType {
  type: string;
}

// ---- schemas: check what we rely on, keep the rest as sent ----
//
// Every object accepts unknown keys (Bitbucket adds fields between versions) and an optional field
// may be `null` (Bitbucket sends `"context": null`). Nothing is converted: a parser returns its input.

const str = Joi.string().allow('');
const int = Joi.number().integer();
const bool = Joi.boolean();
const date = Joi.any()
  .custom((value: unknown, helpers) => (isBitbucketDate(value) ? value : helpers.error('date.bitbucket')))
  .messages({ 'date.bitbucket': '{{#label}} must be epoch milliseconds or an ISO-8601 date' });
const strings = Joi.array().items(str);
const stringMap = Joi.object().pattern(str, str).unknown(true);

/** An object that must have `required` and may have `optional` (absent or null) among other keys. */
function entity(required: Joi.PartialSchemaMap, optional: Joi.PartialSchemaMap = {}): Joi.ObjectSchema {
  const keys: Joi.PartialSchemaMap = {};
  for (const [key, schema] of Object.entries(required)) keys[key] = (schema as Joi.Schema).required();
  for (const [key, schema] of Object.entries(optional)) keys[key] = (schema as Joi.Schema).allow(null);
  return Joi.object(keys).unknown(true);
}

const link = entity({ href: str }).allow(null);
const links = Joi.object()
  .pattern(str, Joi.alternatives(Joi.array().items(link), Joi.string()))
  .unknown(true);
const user = entity({ name: str }, { id: int, slug: str, displayName: str, links });
const person = entity({ name: str }, { emailAddress: str });
const project = entity({ key: str }, { id: int, name: str, links });
const repository = entity({ slug: str, id: int, name: str, project }, { origin: Joi.link('..'), links });
const ref = entity({ id: str, displayId: str }, { type: str, latestCommit: str });
const pullRequestRef = entity({ id: str, latestCommit: str, repository });
const participant = entity({ user }, { approved: bool, status: str });
const participants = Joi.array().items(participant);
const pullRequest = entity(
  { id: int, version: int, title: str, state: str, createdDate: date },
  { updatedDate: date, closedDate: date, draft: bool },
).keys({
  fromRef: pullRequestRef.required(),
  toRef: pullRequestRef.required(),
  author: participant.required(),
  reviewers: participants.allow(null),
  participants: participants.allow(null),
  links: links.allow(null),
});
const path = entity({ toString: str, components: strings });
const change = entity({ type: str, path }, { srcPath: path });
const comment = entity(
  { id: int, version: int, text: str, createdDate: date, author: user },
  { updatedDate: date, comments: Joi.array().items(Joi.link('...')) },
);
const commit = entity(
  { id: str },
  {
    authorTimestamp: date,
    committerTimestamp: date,
    message: str,
    author: person,
    committer: person,
    parents: Joi.array().items(entity({ id: str })),
  },
);

export const BUILD_STATES: readonly BuildState[] = [
  'INPROGRESS',
  'SUCCESSFUL',
  'FAILED',
  'CANCELLED',
  'UNKNOWN',
];

const buildStatus = entity(
  { key: str, url: str, state: Joi.string().valid(...BUILD_STATES) },
  { dateAdded: date, duration: Joi.number() },
);
const webhookRequest = entity(
  { name: str, url: str, events: strings },
  { active: bool, configuration: stringMap },
);
const webhook = webhookRequest.keys({
  id: int.required(),
  active: bool.required(),
  createdDate: date.allow(null),
});
const webhookInvocation = entity(
  {},
  {
    id: int,
    event: str,
    start: date,
    finish: date,
    result: entity({}, { outcome: str, description: Joi.string().allow('') }),
  },
);
const webhookStatistics = entity(
  {},
  { lastSuccess: webhookInvocation, lastFailure: webhookInvocation, lastError: webhookInvocation },
);
const activity = entity({ id: int, action: str }, { createdDate: date, user, comment });
const errorItem = entity({ message: str }, { context: str, exceptionName: str });

/** Bitbucket's paged envelope around items of `item`. */
function page(item: Joi.Schema): Joi.ObjectSchema {
  return entity(
    { isLastPage: bool, values: Joi.array().items(item) },
    { start: int, limit: int, nextPageStart: int },
  );
}

// ---- parsers over the schemas ----

const OPTIONS: Joi.ValidationOptions = { convert: false, abortEarly: true };

/** Joi's error types, said as what was expected; others fall back to joi's own words. */
const EXPECTED: Record<string, string> = {
  'any.required': 'a value',
  'string.base': 'a string',
  'number.base': 'a number',
  'number.integer': 'an integer',
  'number.infinity': 'a number',
  'number.unsafe': 'a safe integer',
  'boolean.base': 'a boolean',
  'object.base': 'an object',
  'array.base': 'an array',
  'alternatives.types': 'a list of links',
  'date.bitbucket': 'a date (epoch milliseconds or ISO-8601)',
};

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  // A key missing on an object can reach a check as an inherited method (`toString`).
  return typeof value === 'function' ? 'undefined' : typeof value;
}

/** `['values', 0, 'fromRef']` → `.values[0].fromRef`, as the messages have always named fields. */
function pathOf(keys: readonly (string | number)[] = []): string {
  return keys.map((key) => (typeof key === 'number' ? `[${key}]` : `.${key}`)).join('');
}

function invalid(prefix: string, detail: Joi.ValidationErrorItem): AppError {
  const path = `${prefix}${pathOf(detail.path)}` || '(root)';
  const expected =
    detail.type === 'any.only'
      ? `one of ${(detail.context?.valids as unknown[]).join('|')}`
      : (EXPECTED[detail.type] ?? detail.message);
  return new AppError(
    'BITBUCKET.INVALID_PAYLOAD',
    `${path}: expected ${expected}, got ${describe(detail.context?.value)}`,
    { status: 400, details: { path, expected, type: detail.type } },
  );
}

const schemas = new WeakMap<Parser<unknown>, Joi.Schema>();

/** A parser that validates against `schema` (compiled once, here) and returns its input as it came. */
function parserOf<T>(schema: Joi.Schema): Parser<T> {
  const parse: Parser<T> = (value, prefix = '') => {
    const { error } = schema.validate(value, OPTIONS);
    if (error === undefined) return value as T;
    const detail = error.details[0]!;
    // An item parser without a schema (see pageOf) threw its own error: pass it on as it is.
    if (detail.context?.error instanceof Error) throw detail.context.error;
    throw invalid(prefix, detail);
  };
  schemas.set(parse, schema);
  return parse;
}

export const parseLinks: Parser<Links> = parserOf(links);
export const parseUser: Parser<User> = parserOf(user);
export const parsePerson: Parser<Person> = parserOf(person);
export const parseProject: Parser<Project> = parserOf(project);
export const parseRepository: Parser<Repository> = parserOf(repository);
export const parseRef: Parser<Ref> = parserOf(ref);
export const parsePullRequestRef: Parser<PullRequestRef> = parserOf(pullRequestRef);
export const parseParticipant: Parser<Participant> = parserOf(participant);
export const parsePullRequest: Parser<PullRequest> = parserOf(pullRequest);
export const parseChange: Parser<Change> = parserOf(change);
export const parseComment: Parser<Comment> = parserOf(comment);
export const parseCommit: Parser<Commit> = parserOf(commit);
export const parseBuildStatus: Parser<BuildStatus> = parserOf(buildStatus);
export const parseWebhookRequest: Parser<WebhookRequest> = parserOf(webhookRequest);
export const parseWebhook: Parser<Webhook> = parserOf(webhook);
export const parseWebhookStatistics: Parser<WebhookStatistics> = parserOf(webhookStatistics);
export const parseActivity: Parser<Activity> = parserOf(activity);
export const parseApplicationProperties: Parser<ApplicationProperties> = parserOf(
  entity({ version: str }, { displayName: str }),
);
export const parseCapabilities: Parser<Capabilities> = parserOf(
  entity({ capabilities: stringMap }, { application: str }),
);
export const parseBuildCapabilities: Parser<BuildCapabilitiesBody> = parserOf(
  entity({ buildStatus: strings }),
);
export const parseWebhookCapabilities: Parser<WebhookCapabilitiesBody> = parserOf(
  entity({ 'application-webhooks': strings }),
);
export const parseErrorBody: Parser<ErrorBody> = parserOf(entity({ errors: Joi.array().items(errorItem) }));
export const parseDiff: Parser<Diff> = parserOf(
  entity({ diffs: Joi.array().items(Joi.object().unknown(true)) }),
);
export const parseBrowseType: Parser<BrowseType> = parserOf(entity({ type: str }));
export const parseString: Parser<string> = parserOf(str);
export const parseChangesPage: Parser<ChangesPage> = parserOf(
  page(change).keys({ fromHash: str.allow(null), toHash: str.allow(null) }),
);

const pages = new WeakMap<Parser<unknown>, Parser<Page<unknown>>>();

/**
 * Wraps an item parser into a parser of Bitbucket's paged envelope: one joi schema over the item's,
 * compiled on first use and kept, since the client asks for it on every page.
 */
export function pageOf<T>(item: Parser<T>): Parser<Page<T>> {
  let parse = pages.get(item);
  if (parse === undefined) {
    const schema = schemas.get(item);
    // A parser not made here (no schema) still reads every value, path and all.
    parse = parserOf<Page<unknown>>(
      page(
        schema ??
          Joi.any().custom((value: unknown, helpers) => {
            item(value, pathOf(helpers.state.path));
            return value;
          }),
      ),
    );
    pages.set(item, parse);
  }
  return parse as Parser<Page<T>>;
}

// --- Repository permissions (user search with a permission filter) ---

/** A repository permission, weakest first; project and global permissions imply them. */
export type RepositoryPermission = 'REPO_READ' | 'REPO_WRITE' | 'REPO_ADMIN';
