import { each, invalid, nested, object, optional, required, type Json, type Parser } from './validate';

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

// ---- parsers: check what we rely on, keep the rest as sent ----

const link: Parser<Link | null> = (v, p = '') => {
  if (v === null) return null;
  const o = object(v, p);
  required(o, 'href', 'string', p);
  return o as unknown as Link;
};

export const parseLinks: Parser<Links> = (v, p = '') => {
  const o = object(v, p);
  for (const [rel, value] of Object.entries(o)) {
    if (Array.isArray(value)) value.forEach((l, i) => link(l, `${p}.${rel}[${i}]`));
    else if (typeof value !== 'string') throw invalid(`${p}.${rel}`, 'a list of links', value);
  }
  return o;
};

export const parseUser: Parser<User> = (v, p = '') => {
  const o = object(v, p);
  required(o, 'name', 'string', p);
  optional(o, 'id', 'integer', p);
  optional(o, 'slug', 'string', p);
  optional(o, 'displayName', 'string', p);
  nested(o, 'links', parseLinks, p, true);
  return o as unknown as User;
};

export const parsePerson: Parser<Person> = (v, p = '') => {
  const o = object(v, p);
  required(o, 'name', 'string', p);
  optional(o, 'emailAddress', 'string', p);
  return o as unknown as Person;
};

export const parseProject: Parser<Project> = (v, p = '') => {
  const o = object(v, p);
  required(o, 'key', 'string', p);
  optional(o, 'id', 'integer', p);
  optional(o, 'name', 'string', p);
  nested(o, 'links', parseLinks, p, true);
  return o as unknown as Project;
};

export const parseRepository: Parser<Repository> = (v, p = '') => {
  const o = object(v, p);
  required(o, 'slug', 'string', p);
  required(o, 'id', 'integer', p);
  required(o, 'name', 'string', p);
  nested(o, 'project', parseProject, p);
  nested(o, 'origin', parseRepository, p, true);
  nested(o, 'links', parseLinks, p, true);
  return o as unknown as Repository;
};

export const parseRef: Parser<Ref> = (v, p = '') => {
  const o = object(v, p);
  required(o, 'id', 'string', p);
  required(o, 'displayId', 'string', p);
  optional(o, 'type', 'string', p);
  optional(o, 'latestCommit', 'string', p);
  return o as unknown as Ref;
};

export const parsePullRequestRef: Parser<PullRequestRef> = (v, p = '') => {
  const o = object(v, p);
  required(o, 'id', 'string', p);
  required(o, 'latestCommit', 'string', p);
  nested(o, 'repository', parseRepository, p);
  return o as unknown as PullRequestRef;
};

export const parseParticipant: Parser<Participant> = (v, p = '') => {
  const o = object(v, p);
  nested(o, 'user', parseUser, p);
  optional(o, 'approved', 'boolean', p);
  optional(o, 'status', 'string', p);
  return o as unknown as Participant;
};

export const parsePullRequest: Parser<PullRequest> = (v, p = '') => {
  const o = object(v, p);
  required(o, 'id', 'integer', p);
  required(o, 'version', 'integer', p);
  required(o, 'title', 'string', p);
  required(o, 'state', 'string', p);
  required(o, 'createdDate', 'date', p);
  optional(o, 'updatedDate', 'date', p);
  optional(o, 'closedDate', 'date', p);
  optional(o, 'draft', 'boolean', p);
  nested(o, 'fromRef', parsePullRequestRef, p);
  nested(o, 'toRef', parsePullRequestRef, p);
  nested(o, 'author', parseParticipant, p);
  each(o, 'reviewers', parseParticipant, p, true);
  each(o, 'participants', parseParticipant, p, true);
  nested(o, 'links', parseLinks, p, true);
  return o as unknown as PullRequest;
};

const parsePath: Parser<Path> = (v, p = '') => {
  const o = object(v, p);
  required(o, 'toString', 'string', p);
  each(
    o,
    'components',
    (c, cp) => {
      if (typeof c !== 'string') throw invalid(cp ?? '', 'a string', c);
      return c;
    },
    p,
  );
  return o as unknown as Path;
};

export const parseChange: Parser<Change> = (v, p = '') => {
  const o = object(v, p);
  required(o, 'type', 'string', p);
  nested(o, 'path', parsePath, p);
  nested(o, 'srcPath', parsePath, p, true);
  return o as unknown as Change;
};

export const parseComment: Parser<Comment> = (v, p = '') => {
  const o = object(v, p);
  required(o, 'id', 'integer', p);
  required(o, 'version', 'integer', p);
  required(o, 'text', 'string', p);
  required(o, 'createdDate', 'date', p);
  optional(o, 'updatedDate', 'date', p);
  nested(o, 'author', parseUser, p);
  each(o, 'comments', parseComment, p, true);
  return o as unknown as Comment;
};

export const parseCommit: Parser<Commit> = (v, p = '') => {
  const o = object(v, p);
  required(o, 'id', 'string', p);
  optional(o, 'authorTimestamp', 'date', p);
  optional(o, 'committerTimestamp', 'date', p);
  optional(o, 'message', 'string', p);
  nested(o, 'author', parsePerson, p, true);
  nested(o, 'committer', parsePerson, p, true);
  each(
    o,
    'parents',
    (c, cp) => {
      const parent = object(c, cp ?? '');
      required(parent, 'id', 'string', cp ?? '');
      return parent;
    },
    p,
    true,
  );
  return o as unknown as Commit;
};

export const BUILD_STATES: readonly BuildState[] = [
  'INPROGRESS',
  'SUCCESSFUL',
  'FAILED',
  'CANCELLED',
  'UNKNOWN',
];

export const parseBuildStatus: Parser<BuildStatus> = (v, p = '') => {
  const o = object(v, p);
  required(o, 'key', 'string', p);
  required(o, 'url', 'string', p);
  if (!BUILD_STATES.includes(o.state as BuildState))
    throw invalid(`${p}.state`, BUILD_STATES.join('|'), o.state);
  optional(o, 'dateAdded', 'date', p);
  optional(o, 'duration', 'number', p);
  return o as unknown as BuildStatus;
};

const stringList: Parser<string[]> = (v, p = '') => {
  if (!Array.isArray(v) || v.some((e) => typeof e !== 'string')) throw invalid(p, 'a list of strings', v);
  return v as string[];
};

const stringMap: Parser<Record<string, string>> = (v, p = '') => {
  const o = object(v, p);
  for (const [k, value] of Object.entries(o)) {
    if (typeof value !== 'string') throw invalid(`${p}.${k}`, 'a string', value);
  }
  return o as Record<string, string>;
};

export const parseWebhookRequest: Parser<WebhookRequest> = (v, p = '') => {
  const o = object(v, p);
  required(o, 'name', 'string', p);
  required(o, 'url', 'string', p);
  nested(o, 'events', stringList, p);
  optional(o, 'active', 'boolean', p);
  nested(o, 'configuration', stringMap, p, true);
  return o as unknown as WebhookRequest;
};

export const parseWebhook: Parser<Webhook> = (v, p = '') => {
  const o = object(v, p);
  required(o, 'id', 'integer', p);
  required(o, 'active', 'boolean', p);
  optional(o, 'createdDate', 'date', p);
  parseWebhookRequest(o, p);
  return o as unknown as Webhook;
};

export const parseActivity: Parser<Activity> = (v, p = '') => {
  const o = object(v, p);
  required(o, 'id', 'integer', p);
  required(o, 'action', 'string', p);
  optional(o, 'createdDate', 'date', p);
  nested(o, 'user', parseUser, p, true);
  nested(o, 'comment', parseComment, p, true);
  return o as unknown as Activity;
};

export const parseApplicationProperties: Parser<ApplicationProperties> = (v, p = '') => {
  const o = object(v, p);
  required(o, 'version', 'string', p);
  optional(o, 'displayName', 'string', p);
  return o as unknown as ApplicationProperties;
};

export const parseCapabilities: Parser<Capabilities> = (v, p = '') => {
  const o = object(v, p);
  nested(o, 'capabilities', stringMap, p);
  optional(o, 'application', 'string', p);
  return o as unknown as Capabilities;
};

export const parseBuildCapabilities: Parser<BuildCapabilitiesBody> = (v, p = '') => {
  const o = object(v, p);
  nested(o, 'buildStatus', stringList, p);
  return o as unknown as BuildCapabilitiesBody;
};

export const parseWebhookCapabilities: Parser<WebhookCapabilitiesBody> = (v, p = '') => {
  const o = object(v, p);
  nested(o, 'application-webhooks', stringList, p);
  return o as unknown as WebhookCapabilitiesBody;
};

export const parseErrorBody: Parser<ErrorBody> = (v, p = '') => {
  const o = object(v, p);
  each(
    o,
    'errors',
    (e, ep = '') => {
      const item = object(e, ep);
      required(item, 'message', 'string', ep);
      optional(item, 'context', 'string', ep);
      optional(item, 'exceptionName', 'string', ep);
      return item;
    },
    p,
  );
  return o as unknown as ErrorBody;
};

export const parseDiff: Parser<Diff> = (v, p = '') => {
  const o = object(v, p);
  each(o, 'diffs', (d, dp = '') => object(d, dp), p);
  return o as unknown as Diff;
};

export const parseBrowseType: Parser<BrowseType> = (v, p = '') => {
  const o = object(v, p);
  required(o, 'type', 'string', p);
  return o as unknown as BrowseType;
};

export const parseString: Parser<string> = (v, p = '') => {
  if (typeof v !== 'string') throw invalid(p, 'a string', v);
  return v;
};

/** Wraps an item parser into a parser of Bitbucket's paged envelope. */
export function pageOf<T>(item: Parser<T>): Parser<Page<T>> {
  return (v, p = '') => {
    const o = object(v, p);
    required(o, 'isLastPage', 'boolean', p);
    optional(o, 'start', 'integer', p);
    optional(o, 'limit', 'integer', p);
    optional(o, 'nextPageStart', 'integer', p);
    each(o, 'values', item, p);
    return o as unknown as Page<T>;
  };
}

export const parseChangesPage: Parser<ChangesPage> = (v, p = '') => {
  const page = pageOf(parseChange)(v, p) as ChangesPage;
  const o = page as unknown as Json;
  optional(o, 'fromHash', 'string', p);
  optional(o, 'toHash', 'string', p);
  return page;
};
