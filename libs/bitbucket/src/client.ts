import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { AppError } from '@stacklink/errors';
import {
  BitbucketErrorCode,
  bitbucketError,
  hostDownError,
  isHostFailure,
  networkError,
  statusError,
  wentUnanswered,
  type BitbucketError,
  type BitbucketErrorDetails,
} from './errors';
import type { HostGate } from './host-gate';
import {
  BUILD_STATES,
  pageOf,
  parseActivity,
  parseApplicationProperties,
  parseBuildCapabilities,
  parseCapabilities,
  parseChangesPage,
  parseComment,
  parseUser,
  parseCommit,
  parseProject,
  parsePullRequest,
  parseRef,
  parseRepository,
  parseWebhook,
  parseWebhookCapabilities,
  parseWebhookStatistics,
  type Activity,
  type ApplicationProperties,
  type BuildState,
  type BuildStatus,
  type InsightAnnotationBody,
  type InsightReportBody,
  type Change,
  type ChangesPage,
  type Comment,
  type RepositoryPermission,
  type Commit,
  type Page,
  type Project,
  type PullRequest,
  type Ref,
  type Repository,
  type Webhook,
  type WebhookRequest,
  type WebhookStatistics,
  type Parser,
} from './models/rest';
import { collectPages, type Collected, type PageRequest, type PagingLimits } from './paging';
import { DEFAULT_RETRY, parseRetryAfter, withRetry, type RetryOptions, type RetryRuntime } from './retry';
import { splitCommentText, MAX_COMMENT_LENGTH } from './split-comment';
import type { WebhookScope } from './webhook-scope';

export interface BitbucketClientOptions {
  /** Base URL including any context path, e.g. `https://git.example.com/bitbucket`. */
  baseUrl: string;
  /** Personal or HTTP access token, sent as `Authorization: Bearer`. Never logged or put in errors. */
  token?: string;
  /** The user the token is expected to belong to; checkCredentials reports a mismatch. */
  username?: string;
  /** PEM CA certificate(s) to trust in addition to the public roots (self-hosted PKI). */
  caCertificate?: string | Buffer;
  /** Timeout of each HTTP call (default 10 s). */
  timeoutMs?: number;
  retry?: Partial<RetryOptions>;
  /** Page size asked of Bitbucket (default 100). */
  pageLimit?: number;
  /** Caps for walking every page of a list (defaults 100 pages, 10 000 values). */
  maxPages?: number;
  maxItems?: number;
  /**
   * Shared view of the host's health: asked before every HTTP call, told how it went. Without one every
   * call is sent (the integration service's connection test wants the real error every time).
   */
  hostGate?: HostGate;
  /** Test hooks: replace timers and randomness so retry tests stay fast and deterministic. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  random?: () => number;
}

export interface ServerVersion {
  version: string;
  buildNumber?: string;
  displayName?: string;
}

export interface Credentials {
  username: string;
  /** Capability names the server announces (`build`, `webhooks`, …). */
  capabilities: string[];
  application?: string;
  /** False when `username` was given and the token belongs to someone else. */
  matchesExpectedUser: boolean;
}

export interface RepositoryQuery extends PageRequest {
  projectKey?: string;
  /** Case-insensitive part of the repository name. */
  filter?: string;
  permission?: 'REPO_READ' | 'REPO_WRITE' | 'REPO_ADMIN';
}

export interface ChangedFiles {
  /** Every affected path, deduplicated; a move contributes its old and its new path. */
  paths: string[];
  changes: Change[];
  /** True when Bitbucket's list was cut short: treat everything as affected (docs/architecture.md §7). */
  truncated: boolean;
}

export interface BuildStatusResult {
  api: 'repository' | 'legacy';
  /** The state actually posted: the legacy API has no CANCELLED/UNKNOWN, so those become FAILED. */
  state: BuildState;
}

export interface BuildCapabilities {
  /** The server has `…/commits/{sha}/builds` (Bitbucket 7.4+). */
  repositoryScoped: boolean;
  /** CANCELLED and UNKNOWN states exist (they arrived with the rich, repository-scoped build status). */
  cancelledState: boolean;
  buildStatus: string[];
}

export interface WebhookCapabilities {
  /** False on servers before 6.5 that have no capabilities resource for webhooks. */
  supported: boolean;
  events: string[];
}

export interface BitbucketClient {
  readonly baseUrl: string;
  getServerVersion(): Promise<ServerVersion>;
  checkCredentials(): Promise<Credentials>;
  listProjects(page?: PageRequest): Promise<Page<Project>>;
  listAllProjects(): Promise<Collected<Project>>;
  getProject(projectKey: string): Promise<Project>;
  listRepositories(query?: RepositoryQuery): Promise<Page<Repository>>;
  listAllRepositories(query?: Omit<RepositoryQuery, 'start' | 'limit'>): Promise<Collected<Repository>>;
  getRepository(projectKey: string, slug: string): Promise<Repository>;
  /** Files changed by the commits reachable from `until` but not from `since` (a push's fromHash..toHash). */
  getCommitRangeChanges(
    projectKey: string,
    slug: string,
    range: { since: string; until: string },
  ): Promise<ChangedFiles>;
  getCommitChanges(projectKey: string, slug: string, commit: string): Promise<ChangedFiles>;
  /**
   * One tag (`v1` or `refs/tags/v1`): `latestCommit` is the commit it names, `hash` the tag object of
   * an annotated tag (null for a lightweight one). NOT_FOUND when the tag does not exist.
   */
  getTag(projectKey: string, slug: string, name: string): Promise<Ref>;
  getPullRequestChanges(projectKey: string, slug: string, pullRequestId: number): Promise<ChangedFiles>;
  getPullRequest(projectKey: string, slug: string, pullRequestId: number): Promise<PullRequest>;
  getPullRequestsForCommit(projectKey: string, slug: string, commit: string): Promise<Collected<PullRequest>>;

  // What a webhook claims, asked of Bitbucket before acting on it (docs/architecture.md §12).
  /**
   * The branches that contain the commit (`rest/branch-utils/latest/…/branches/info/{commitId}`),
   * paged to the end. A commit Bitbucket does not know is a BITBUCKET.NOT_FOUND.
   */
  listBranchesContaining(projectKey: string, slug: string, commit: string): Promise<Collected<Ref>>;
  /**
   * One page of the commits reachable from `until` and not from `since` (`commits?until=&since=`),
   * newest first: an empty page means `until` is `since` or one of its ancestors.
   */
  listCommits(
    projectKey: string,
    slug: string,
    query: { until: string; since?: string } & PageRequest,
  ): Promise<Page<Commit>>;
  postBuildStatus(
    projectKey: string,
    slug: string,
    commit: string,
    status: BuildStatus,
  ): Promise<BuildStatusResult>;
  getBuildCapabilities(): Promise<BuildCapabilities>;
  /**
   * Creates or replaces a commit's Code Insights report. `unsupported` when the server has no Code
   * Insights API (a 404 that names no missing repository or commit); nothing else is inferred.
   */
  putInsightReport(
    projectKey: string,
    slug: string,
    commit: string,
    key: string,
    report: InsightReportBody,
  ): Promise<'stored' | 'unsupported'>;
  /** Deletes every annotation of the report; a report that does not exist has none (no error). */
  deleteInsightAnnotations(projectKey: string, slug: string, commit: string, key: string): Promise<void>;
  /** Adds annotations to the report (Bitbucket takes at most 1,000 per request). */
  postInsightAnnotations(
    projectKey: string,
    slug: string,
    commit: string,
    key: string,
    annotations: InsightAnnotationBody[],
  ): Promise<void>;
  createPullRequestComment(
    projectKey: string,
    slug: string,
    pullRequestId: number,
    text: string,
    options?: { parentId?: number },
  ): Promise<Comment>;
  getPullRequestComment(
    projectKey: string,
    slug: string,
    pullRequestId: number,
    commentId: number,
  ): Promise<Comment>;
  /** Edits a comment; 409 BITBUCKET.CONFLICT when `version` is not the comment's current one. */
  updatePullRequestComment(
    projectKey: string,
    slug: string,
    pullRequestId: number,
    commentId: number,
    update: { text: string; version: number },
  ): Promise<Comment>;
  /**
   * The pull request's activity (comments, approvals, updates…), newest first, at most `maxItems` of
   * it (default 500): a busy pull request has thousands, and callers look for something recent.
   */
  listPullRequestActivities(
    projectKey: string,
    slug: string,
    pullRequestId: number,
    options?: { maxItems?: number },
  ): Promise<Collected<Activity>>;
  /** Posts `text`, split into a first comment and replies to it when it is over Bitbucket's limit. */
  postLongPullRequestComment(
    projectKey: string,
    slug: string,
    pullRequestId: number,
    text: string,
  ): Promise<Comment[]>;
  listWebhooks(projectKey: string, slug: string): Promise<Collected<Webhook>>;
  createWebhook(projectKey: string, slug: string, webhook: WebhookRequest): Promise<Webhook>;
  updateWebhook(projectKey: string, slug: string, id: number, webhook: WebhookRequest): Promise<Webhook>;
  deleteWebhook(projectKey: string, slug: string, id: number): Promise<void>;
  getWebhookCapabilities(): Promise<WebhookCapabilities>;

  // Managed webhooks and missed-event recovery (docs/architecture.md §14).
  /**
   * The webhooks of a repository (`{projectKey, slug}`) or a project (`{projectKey}`), paged to the
   * end. Needs REPO_ADMIN (PROJECT_ADMIN for a project): BITBUCKET.FORBIDDEN otherwise.
   */
  listWebhooksOf(scope: WebhookScope): Promise<Collected<Webhook>>;
  createWebhookOn(scope: WebhookScope, webhook: WebhookRequest): Promise<Webhook>;
  updateWebhookOn(scope: WebhookScope, id: number, webhook: WebhookRequest): Promise<Webhook>;
  deleteWebhookOn(scope: WebhookScope, id: number): Promise<void>;
  /**
   * A webhook's last success, failure and error (`…/webhooks/{id}/statistics`); undefined on a server
   * without the resource (a 404 that names no webhook).
   */
  getWebhookStatistics(scope: WebhookScope, id: number): Promise<WebhookStatistics | undefined>;
  /** Branches of a repository (`…/branches?filterText=`), paged to the end: their heads. */
  listBranches(projectKey: string, slug: string, filterText?: string): Promise<Collected<Ref>>;
  /** The repository's open pull requests (`…/pull-requests?state=OPEN`), paged to the end. */
  listOpenPullRequests(projectKey: string, slug: string): Promise<Collected<PullRequest>>;

  // --- Repository permissions ---
  /**
   * Whether the user (by name) holds at least `permission` on the repository, however it was granted
   * (repository, project, group or global): `GET /rest/api/1.0/users?filter=…&permission.1=…
   * &permission.1.projectKey=…&permission.1.repositorySlug=…`, paged, exact name match. Any licensed
   * account may ask; unlike the repository's permissions/users listing it needs no REPO_ADMIN.
   */
  userHasRepositoryPermission(
    projectKey: string,
    slug: string,
    userName: string,
    permission: RepositoryPermission,
  ): Promise<boolean>;
}

interface Call<T> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** Parser of a 2xx body; `null` for answers without one (204). */
  parse: Parser<T> | null;
  anonymous?: boolean;
  /**
   * Calls that create something (a comment, a webhook) are retried only when the server certainly did
   * not act on them: 429 and refused connections. Everything else may have gone through.
   */
  idempotent?: boolean;
}

interface Answer<T> {
  data: T;
  headers: Record<string, string>;
}

const API = '/rest/api/1.0';
const LATEST = '/rest/api/latest';
const ZERO_HASH = /^0{40}$/;
const NO_SUCH_CONTAINER = /NoSuch(Repository|Project|Commit)Exception/;

/** A 404 for the resource itself (the server lacks that API), not for a repository, project or commit. */
function isMissingResource(err: unknown): boolean {
  if (!(err instanceof AppError) || err.code !== BitbucketErrorCode.NOT_FOUND) return false;
  const details = (err as BitbucketError).details;
  return !(details?.exceptionNames?.some((name) => NO_SUCH_CONTAINER.test(name)) ?? false);
}

function insightReportPath(projectKey: string, slug: string, commit: string, key: string): string {
  return `/rest/insights/1.0/projects/${encodeURIComponent(projectKey)}/repos/${encodeURIComponent(slug)}/commits/${encodeURIComponent(commit)}/reports/${encodeURIComponent(key)}`;
}

export function createBitbucketClient(options: BitbucketClientOptions): BitbucketClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const origin = safeOrigin(baseUrl);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const retry: RetryOptions = { ...DEFAULT_RETRY, ...options.retry };
  const runtime: RetryRuntime = {
    sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    now: options.now ?? Date.now,
    random: options.random ?? Math.random,
  };
  const limits: PagingLimits = {
    pageLimit: options.pageLimit ?? 100,
    maxPages: options.maxPages ?? 100,
    maxItems: options.maxItems ?? 10_000,
  };
  const ca =
    options.caCertificate === undefined ? undefined : [...rootCertificates, options.caCertificate.toString()];
  const httpClient: AxiosInstance = axios.create({
    baseURL: baseUrl,
    httpAgent: new http.Agent({ keepAlive: true }),
    httpsAgent: new https.Agent({ keepAlive: true, ...(ca ? { ca } : {}) }),
    maxRedirects: 0,
    timeout: timeoutMs,
    responseType: 'text',
    transformResponse: [(data: unknown) => data],
    validateStatus: () => true,
    proxy: false,
  });
  /** Set once the repository-scoped build API answered 404: this server only has the legacy one. */
  let legacyBuildStatusOnly = false;

  /** Every HTTP call goes through here: the host gate is asked first and told the outcome. */
  async function once<T>(call: Call<T>): Promise<Answer<T>> {
    const gate = options.hostGate;
    if (gate === undefined) return send(call);
    const admission = await gate.admit(origin);
    if (!admission.allowed) throw hostDownError(origin, call, admission.retryInMs);
    try {
      const answer = await send(call);
      await gate.record(origin, 'up', admission);
      return answer;
    } catch (err) {
      const failed = isHostFailure(err);
      const verdict = await gate.record(origin, failed ? 'down' : 'up', admission);
      if (failed && verdict.down) throw hostDownError(origin, call, verdict.retryInMs, err as BitbucketError);
      throw err;
    }
  }

  async function send<T>(call: Call<T>): Promise<Answer<T>> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (!call.anonymous && options.token) headers.Authorization = `Bearer ${options.token}`;
    if (call.method !== 'GET') headers['X-Atlassian-Token'] = 'no-check';
    if (call.body !== undefined) headers['Content-Type'] = 'application/json';
    const where = { method: call.method, path: call.path, origin, timeoutMs };
    let res: AxiosResponse<string>;
    try {
      res = await httpClient.request<string>({
        method: call.method,
        url: call.path,
        params: call.query,
        data: call.body === undefined ? undefined : JSON.stringify(call.body),
        headers,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw networkError(err, where);
    }
    const responseHeaders = flattenHeaders(res.headers);
    const body = typeof res.data === 'string' ? res.data : '';
    if (res.status < 200 || res.status >= 300) {
      const retryAfterMs = parseRetryAfter(responseHeaders['retry-after'], runtime.now());
      const err = statusError(res.status, body, where, retryAfterMs);
      if (responseHeaders.location) err.details.location = responseHeaders.location;
      throw err;
    }
    if (call.parse === null) return { data: undefined as T, headers: responseHeaders };
    return { data: parseBody(body, responseHeaders, call, res.status), headers: responseHeaders };
  }

  function parseBody<T>(body: string, headers: Record<string, string>, call: Call<T>, status: number): T {
    const notBitbucket = (why: string, cause?: unknown): BitbucketError =>
      bitbucketError(
        BitbucketErrorCode.NOT_BITBUCKET,
        `${origin} answered ${call.method} ${call.path} with ${why}; is the base URL (with its context path) a Bitbucket Data Center server?`,
        { status, messages: [], exceptionNames: [], method: call.method, path: call.path },
        { cause },
      );
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch (err) {
      throw notBitbucket(`something that is not JSON (${headers['content-type'] ?? 'no content type'})`, err);
    }
    try {
      return call.parse!(json, '');
    } catch (err) {
      if (err instanceof AppError && err.code === 'BITBUCKET.INVALID_PAYLOAD') {
        throw notBitbucket(`JSON that does not look like Bitbucket's (${err.message})`, err);
      }
      throw err;
    }
  }

  async function request<T>(call: Call<T>): Promise<Answer<T>> {
    const idempotent = call.idempotent ?? call.method !== 'POST';
    let unanswered = false;
    const attempt = async () => {
      try {
        return await once(call);
      } catch (err) {
        if (call.method !== 'GET' && wentUnanswered(err)) unanswered = true;
        throw err;
      }
    };
    return withRetry(attempt, retry, runtime, (err) => {
      // A resting host is waited for by the caller's queue, not by spinning here.
      if (!err.retryable || err.code === BitbucketErrorCode.HOST_DOWN) return false;
      if (idempotent) return true;
      const cause = (err.details as { cause?: string } | undefined)?.cause;
      return err.code === BitbucketErrorCode.RATE_LIMITED || cause === 'ECONNREFUSED';
    }).catch((err: unknown) => {
      if (unanswered && err instanceof AppError && typeof err.details === 'object' && err.details !== null) {
        (err.details as BitbucketErrorDetails).unanswered = true;
      }
      throw err;
    });
  }

  async function get<T>(path: string, parse: Parser<T>, query?: Call<T>['query']): Promise<T> {
    return (await request({ method: 'GET', path, parse, query })).data;
  }

  function repoPath(projectKey: string, slug: string): string {
    return `${API}/projects/${encodeURIComponent(projectKey)}/repos/${encodeURIComponent(slug)}`;
  }

  function scopePath(scope: WebhookScope): string {
    return scope.slug === undefined
      ? `${API}/projects/${encodeURIComponent(scope.projectKey)}`
      : repoPath(scope.projectKey, scope.slug);
  }

  function collect<T>(path: string, parse: Parser<T>, query: Call<T>['query'] = {}): Promise<Collected<T>> {
    const parsePage = pageOf(parse);
    return collectPages((page) => get(path, parsePage, { ...query, ...page }), limits);
  }

  async function changedFiles(path: string, query: Call<ChangesPage>['query'] = {}): Promise<ChangedFiles> {
    const collected = await collectPages(
      (page) => get<ChangesPage>(path, parseChangesPage, { ...query, ...page }),
      limits,
    );
    const paths = new Set<string>();
    for (const change of collected.values) {
      paths.add(change.path.toString);
      if (change.type === 'MOVE' && change.srcPath) paths.add(change.srcPath.toString);
    }
    return { paths: [...paths], changes: collected.values, truncated: collected.truncated };
  }

  function toLegacyState(state: BuildState): BuildState {
    return state === 'CANCELLED' || state === 'UNKNOWN' ? 'FAILED' : state;
  }

  async function postLegacyBuildStatus(commit: string, status: BuildStatus): Promise<BuildStatusResult> {
    const state = toLegacyState(status.state);
    const body: Record<string, unknown> = { key: status.key, state, url: status.url };
    if (status.name !== undefined) body.name = status.name;
    if (status.description !== undefined) body.description = status.description;
    await request({
      method: 'POST',
      path: `/rest/build-status/1.0/commits/${encodeURIComponent(commit)}`,
      body,
      parse: null,
      idempotent: true,
    });
    return { api: 'legacy', state };
  }

  const client: BitbucketClient = {
    baseUrl,

    async getServerVersion() {
      try {
        const props: ApplicationProperties = (
          await request({
            method: 'GET',
            path: `${API}/application-properties`,
            parse: parseApplicationProperties,
            anonymous: true,
          })
        ).data;
        const result: ServerVersion = { version: props.version };
        if (props.buildNumber !== undefined) result.buildNumber = props.buildNumber;
        if (props.displayName !== undefined) result.displayName = props.displayName;
        return result;
      } catch (err) {
        // Every Bitbucket has this resource, anonymously: a 404 here means something else is at that URL.
        if (err instanceof AppError && err.code === BitbucketErrorCode.NOT_FOUND) {
          throw bitbucketError(
            BitbucketErrorCode.NOT_BITBUCKET,
            `${origin} has no ${API}/application-properties; is the base URL (with its context path) a Bitbucket Data Center server?`,
            err.details as BitbucketError['details'],
            { cause: err },
          );
        }
        throw err;
      }
    },

    async checkCredentials() {
      if (!options.token) {
        throw bitbucketError(
          BitbucketErrorCode.UNAUTHORIZED,
          'no access token is configured for this integration',
          {
            messages: [],
            exceptionNames: [],
            method: 'GET',
            path: '/rest/capabilities',
          },
        );
      }
      const answer = await request({ method: 'GET', path: '/rest/capabilities', parse: parseCapabilities });
      // Bitbucket names the authenticated user in X-AUSERNAME; without it the call ran anonymously.
      const username = answer.headers['x-ausername'];
      if (!username) {
        throw bitbucketError(
          BitbucketErrorCode.UNAUTHORIZED,
          `Bitbucket at ${origin} answered anonymously: the access token was not accepted`,
          { status: 200, messages: [], exceptionNames: [], method: 'GET', path: '/rest/capabilities' },
        );
      }
      const result: Credentials = {
        username,
        capabilities: Object.keys(answer.data.capabilities),
        matchesExpectedUser: options.username === undefined || options.username === username,
      };
      if (answer.data.application !== undefined) result.application = answer.data.application;
      return result;
    },

    listProjects(page = {}) {
      return get(`${API}/projects`, pageOf(parseProject), {
        start: page.start,
        limit: page.limit ?? limits.pageLimit,
      });
    },

    listAllProjects() {
      return collect(`${API}/projects`, parseProject);
    },

    getProject(projectKey) {
      return get(`${API}/projects/${encodeURIComponent(projectKey)}`, parseProject);
    },

    listRepositories(query = {}) {
      const page = { start: query.start, limit: query.limit ?? limits.pageLimit };
      if (query.projectKey !== undefined && query.filter === undefined && query.permission === undefined) {
        return get(
          `${API}/projects/${encodeURIComponent(query.projectKey)}/repos`,
          pageOf(parseRepository),
          page,
        );
      }
      return get(`${API}/repos`, pageOf(parseRepository), {
        ...page,
        projectkey: query.projectKey,
        name: query.filter,
        permission: query.permission,
      });
    },

    listAllRepositories(query = {}) {
      if (query.projectKey !== undefined && query.filter === undefined && query.permission === undefined) {
        return collect(`${API}/projects/${encodeURIComponent(query.projectKey)}/repos`, parseRepository);
      }
      return collect(`${API}/repos`, parseRepository, {
        projectkey: query.projectKey,
        name: query.filter,
        permission: query.permission,
      });
    },

    getRepository(projectKey, slug) {
      return get(repoPath(projectKey, slug), parseRepository);
    },

    async getCommitRangeChanges(projectKey, slug, { since, until }) {
      if (ZERO_HASH.test(since) || ZERO_HASH.test(until)) {
        throw new AppError(
          'BITBUCKET.BAD_REQUEST',
          'a commit range needs two real commits; 40 zeros mean a created or deleted ref',
          {
            status: 400,
          },
        );
      }
      // Bitbucket's compare lists what `from` has and `to` lacks: from = the newer commit.
      return changedFiles(`${repoPath(projectKey, slug)}/compare/changes`, { from: until, to: since });
    },

    getCommitChanges(projectKey, slug, commit) {
      return changedFiles(`${repoPath(projectKey, slug)}/commits/${encodeURIComponent(commit)}/changes`);
    },

    getTag(projectKey, slug, name) {
      // Bitbucket maps `tags/{name:.*}`: a name's slashes stay path separators.
      const path = name
        .replace(/^refs\/tags\//, '')
        .split('/')
        .map(encodeURIComponent)
        .join('/');
      return get(`${repoPath(projectKey, slug)}/tags/${path}`, parseRef);
    },

    getPullRequestChanges(projectKey, slug, pullRequestId) {
      return changedFiles(`${repoPath(projectKey, slug)}/pull-requests/${pullRequestId}/changes`);
    },

    getPullRequest(projectKey, slug, pullRequestId) {
      return get(`${repoPath(projectKey, slug)}/pull-requests/${pullRequestId}`, parsePullRequest);
    },

    getPullRequestsForCommit(projectKey, slug, commit) {
      return collect(
        `${repoPath(projectKey, slug)}/commits/${encodeURIComponent(commit)}/pull-requests`,
        parsePullRequest,
      );
    },

    listBranchesContaining(projectKey, slug, commit) {
      return collect(
        `/rest/branch-utils/latest/projects/${encodeURIComponent(projectKey)}/repos/${encodeURIComponent(slug)}` +
          `/branches/info/${encodeURIComponent(commit)}`,
        parseRef,
      );
    },

    listCommits(projectKey, slug, query) {
      return get(`${repoPath(projectKey, slug)}/commits`, pageOf(parseCommit), {
        until: query.until,
        ...(query.since === undefined ? {} : { since: query.since }),
        ...(query.start === undefined ? {} : { start: query.start }),
        limit: query.limit ?? limits.pageLimit,
      });
    },

    async postBuildStatus(projectKey, slug, commit, status) {
      if (!BUILD_STATES.includes(status.state)) {
        throw new AppError('BITBUCKET.BAD_REQUEST', `unknown build state ${String(status.state)}`, {
          status: 400,
        });
      }
      if (legacyBuildStatusOnly) return postLegacyBuildStatus(commit, status);
      try {
        await request({
          method: 'POST',
          path: `${LATEST}/projects/${encodeURIComponent(projectKey)}/repos/${encodeURIComponent(slug)}/commits/${encodeURIComponent(commit)}/builds`,
          body: status,
          parse: null,
          idempotent: true,
        });
        return { api: 'repository', state: status.state };
      } catch (err) {
        if (!isMissingResource(err)) throw err;
        // No such resource at all: a server older than 7.4. Remember it for the life of this client.
        legacyBuildStatusOnly = true;
        return postLegacyBuildStatus(commit, status);
      }
    },

    async getBuildCapabilities() {
      try {
        const body = await get(`${LATEST}/build/capabilities`, parseBuildCapabilities);
        return {
          repositoryScoped: true,
          cancelledState: body.buildStatus.includes('richBuildStatus'),
          buildStatus: body.buildStatus,
        };
      } catch (err) {
        if (err instanceof AppError && err.code === BitbucketErrorCode.NOT_FOUND) {
          return { repositoryScoped: false, cancelledState: false, buildStatus: [] };
        }
        throw err;
      }
    },

    async putInsightReport(projectKey, slug, commit, key, report) {
      try {
        await request({
          method: 'PUT',
          path: insightReportPath(projectKey, slug, commit, key),
          body: report,
          parse: null,
        });
        return 'stored';
      } catch (err) {
        if (isMissingResource(err)) return 'unsupported';
        throw err;
      }
    },

    async deleteInsightAnnotations(projectKey, slug, commit, key) {
      try {
        await request({
          method: 'DELETE',
          path: `${insightReportPath(projectKey, slug, commit, key)}/annotations`,
          parse: null,
        });
      } catch (err) {
        // No such report (or no Code Insights at all): there are no annotations to delete.
        if (!(err instanceof AppError) || err.code !== BitbucketErrorCode.NOT_FOUND) throw err;
      }
    },

    async postInsightAnnotations(projectKey, slug, commit, key, annotations) {
      await request({
        method: 'POST',
        path: `${insightReportPath(projectKey, slug, commit, key)}/annotations`,
        body: { annotations },
        parse: null,
        // Annotations have no identity here: a retried POST after a lost answer would add them twice.
        idempotent: false,
      });
    },

    async createPullRequestComment(projectKey, slug, pullRequestId, text, commentOptions = {}) {
      if (text.length > MAX_COMMENT_LENGTH) {
        throw new AppError(
          'BITBUCKET.BAD_REQUEST',
          `comment is ${text.length} characters; Bitbucket allows ${MAX_COMMENT_LENGTH}`,
          {
            status: 400,
          },
        );
      }
      const body: Record<string, unknown> = { text };
      if (commentOptions.parentId !== undefined) body.parent = { id: commentOptions.parentId };
      return (
        await request({
          method: 'POST',
          path: `${repoPath(projectKey, slug)}/pull-requests/${pullRequestId}/comments`,
          body,
          parse: parseComment,
          idempotent: false,
        })
      ).data;
    },

    getPullRequestComment(projectKey, slug, pullRequestId, commentId) {
      return get(
        `${repoPath(projectKey, slug)}/pull-requests/${pullRequestId}/comments/${commentId}`,
        parseComment,
      );
    },

    async updatePullRequestComment(projectKey, slug, pullRequestId, commentId, update) {
      return (
        await request({
          method: 'PUT',
          path: `${repoPath(projectKey, slug)}/pull-requests/${pullRequestId}/comments/${commentId}`,
          body: { text: update.text, version: update.version },
          parse: parseComment,
        })
      ).data;
    },

    listPullRequestActivities(projectKey, slug, pullRequestId, activityOptions = {}) {
      const maxItems = activityOptions.maxItems ?? 500;
      const parsePage = pageOf(parseActivity);
      return collectPages(
        (page) =>
          get(`${repoPath(projectKey, slug)}/pull-requests/${pullRequestId}/activities`, parsePage, page),
        { ...limits, maxItems },
      );
    },

    async postLongPullRequestComment(projectKey, slug, pullRequestId, text) {
      const [first = '', ...rest] = splitCommentText(text);
      const head = await client.createPullRequestComment(projectKey, slug, pullRequestId, first);
      const posted = [head];
      for (const part of rest) {
        posted.push(
          await client.createPullRequestComment(projectKey, slug, pullRequestId, part, { parentId: head.id }),
        );
      }
      return posted;
    },

    listWebhooks(projectKey, slug) {
      return collect(`${repoPath(projectKey, slug)}/webhooks`, parseWebhook);
    },

    async createWebhook(projectKey, slug, webhook) {
      return (
        await request({
          method: 'POST',
          path: `${repoPath(projectKey, slug)}/webhooks`,
          body: webhook,
          parse: parseWebhook,
          idempotent: false,
        })
      ).data;
    },

    async updateWebhook(projectKey, slug, id, webhook) {
      return (
        await request({
          method: 'PUT',
          path: `${repoPath(projectKey, slug)}/webhooks/${id}`,
          body: webhook,
          parse: parseWebhook,
        })
      ).data;
    },

    async deleteWebhook(projectKey, slug, id) {
      await request({ method: 'DELETE', path: `${repoPath(projectKey, slug)}/webhooks/${id}`, parse: null });
    },

    async getWebhookCapabilities() {
      try {
        const body = await get('/rest/webhooks/latest/capabilities', parseWebhookCapabilities);
        return { supported: true, events: body['application-webhooks'] };
      } catch (err) {
        if (err instanceof AppError && err.code === BitbucketErrorCode.NOT_FOUND)
          return { supported: false, events: [] };
        throw err;
      }
    },

    listWebhooksOf(scope) {
      return collect(`${scopePath(scope)}/webhooks`, parseWebhook);
    },

    async createWebhookOn(scope, webhook) {
      return (
        await request({
          method: 'POST',
          path: `${scopePath(scope)}/webhooks`,
          body: webhook,
          parse: parseWebhook,
          idempotent: false,
        })
      ).data;
    },

    async updateWebhookOn(scope, id, webhook) {
      return (
        await request({
          method: 'PUT',
          path: `${scopePath(scope)}/webhooks/${id}`,
          body: webhook,
          parse: parseWebhook,
        })
      ).data;
    },

    async deleteWebhookOn(scope, id) {
      await request({ method: 'DELETE', path: `${scopePath(scope)}/webhooks/${id}`, parse: null });
    },

    async getWebhookStatistics(scope, id) {
      try {
        return await get(`${scopePath(scope)}/webhooks/${id}/statistics`, parseWebhookStatistics);
      } catch (err) {
        // A server without the resource answers Tomcat's 404 page, which the client reads as not Bitbucket.
        if (
          err instanceof AppError &&
          (err.code === BitbucketErrorCode.NOT_BITBUCKET ||
            (err.code === BitbucketErrorCode.NOT_FOUND &&
              !/webhook/i.test(
                (err.details as { messages?: string[] } | undefined)?.messages?.join(' ') ?? '',
              )))
        )
          return undefined;
        throw err;
      }
    },

    listBranches(projectKey, slug, filterText) {
      return collect(
        `${repoPath(projectKey, slug)}/branches`,
        parseRef,
        filterText === undefined ? {} : { filterText },
      );
    },

    listOpenPullRequests(projectKey, slug) {
      return collect(`${repoPath(projectKey, slug)}/pull-requests`, parsePullRequest, { state: 'OPEN' });
    },

    async userHasRepositoryPermission(projectKey, slug, userName, permission) {
      const users = await collect(`${API}/users`, parseUser, {
        filter: userName,
        'permission.1': permission,
        'permission.1.projectKey': projectKey,
        'permission.1.repositorySlug': slug,
      });
      return users.values.some((u) => u.name === userName);
    },
  };
  return client;
}

function flattenHeaders(headers: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === 'string') out[name.toLowerCase()] = value;
    else if (Array.isArray(value)) out[name.toLowerCase()] = value.join(', ');
    else if (typeof value === 'number') out[name.toLowerCase()] = String(value);
  }
  return out;
}

function safeOrigin(baseUrl: string): string {
  try {
    const url = new URL(baseUrl);
    return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
  } catch {
    throw new AppError('BITBUCKET.BAD_REQUEST', `not a URL: ${baseUrl}`, { status: 400 });
  }
}
