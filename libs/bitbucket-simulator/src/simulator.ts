import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { SimInsightReport } from './code-insights';
import { deliver, type Delivery, type WebhookTarget } from './delivery';
import { displayId, Renderer, webhookDate } from './payloads';
import { TokenBuckets, type RateLimitOptions } from './rate-limit';
import { createOAuthRouter, type OAuthOptions } from './oauth';
import { createRestRouter, type Fault, type RestContext } from './rest';
import { createScenarioRouter } from './scenario-api';
import {
  SimulatorState,
  ZERO_HASH,
  type FileChangeType,
  type Permission,
  type RecordedRequest,
  type RecordedStatus,
  type ReviewStatus,
  type SimComment,
  type SimFileChange,
  type SimProject,
  type SimPullRequest,
  type SimRepository,
  type SimUser,
  type SimWebhook,
  type SimInvocation,
  type ProjectPermission,
  type RepositoryPermission,
} from './state';

export interface SimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Largest page the server answers; small by default so clients must page. */
  pageSize?: number;
  /** An older server (before 7.4): no repository-scoped build status API, no build capabilities. */
  legacyBuildStatusOnly?: boolean;
  /**
   * Code Insights reports and annotations (Bitbucket 5.15+); default on, off for a legacy server.
   * Off, their resources answer 404 like any resource the server does not have.
   */
  codeInsights?: boolean;
  /** Per-user token bucket; requests beyond it get 429 with Retry-After. */
  rateLimit?: RateLimitOptions;
  /** Added to every REST answer. */
  latencyMs?: number;
  /** Serve HTTPS with this PEM key and certificate. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Context path, e.g. `/bitbucket`, as on servers installed under a path. */
  contextPath?: string;
  /** Receives every event (in addition to repository webhooks created through the REST API). */
  webhookTarget?: WebhookTarget;
  /** Reported by application-properties and in the webhook User-Agent. */
  version?: string;
  /**
   * The clock (epoch ms) for every date the simulator records or sends: commit timestamps, pull
   * request and comment dates, webhook `date`, build statuses, webhooks. Default: the real clock.
   */
  now?: () => number;
  /**
   * The server's configured base URL (Bitbucket's "Base URL" setting), rendered in every link; default:
   * the URL it listens on. The REST API still answers on the listening address (`url`).
   */
  baseUrl?: string;
  /** OAuth 2.0 provider lifetimes (oauth.ts): codes 600 s, access tokens 3600 s by default. */
  oauth?: Partial<OAuthOptions>;
}

export type FileSpec = string | { path: string; type?: FileChangeType; srcPath?: string };

export type RefUpdate =
  | { branch: string; files: FileSpec[]; message?: string }
  /** A tag on `at` (a commit or branch; default: the default branch's head); `annotated` makes a tag object. */
  | { tag: string; at?: string; annotated?: boolean; message?: string }
  | { deleteBranch: string }
  | { deleteTag: string };

export interface ScenarioResult {
  deliveries: Delivery[];
}

export interface PushResult extends ScenarioResult {
  /** The new head commit of the (last) pushed branch. */
  commit: string;
  commits: string[];
}

export interface PullRequestResult extends ScenarioResult {
  id: number;
  pullRequest: Record<string, unknown>;
}

type RepoRef = { project: string; repo: string };
type PrRef = RepoRef & { id: number; actor?: string };

export interface BitbucketSimulator {
  /** Base URL including the context path: what a client's `baseUrl` is set to. */
  readonly url: string;
  readonly port: number;
  readonly state: SimulatorState;
  readonly recorded: {
    readonly statuses: RecordedStatus[];
    readonly insightReports: SimInsightReport[];
    readonly comments: SimComment[];
    readonly webhooks: SimWebhook[];
    readonly deliveries: Delivery[];
    readonly requests: RecordedRequest[];
  };
  addUser(user: {
    name: string;
    token: string;
    permission?: Permission;
    displayName?: string;
    email?: string;
  }): SimUser;
  addProject(project: { key: string; name?: string }): SimProject;
  /**
   * Grants a user a permission on one repository (undefined takes it away). Global admins
   * (`permission: 'admin'`) hold every permission without a grant, as Bitbucket's SYS_ADMIN does.
   */
  setRepositoryPermission(
    input: RepoRef & { user: string; permission: RepositoryPermission | undefined },
  ): void;
  /**
   * An incoming application link (OAuth 2.0 client) with its redirect URL, as an administrator creates
   * one under Administration → Application links; the id and secret are generated unless given.
   */
  addOAuthClient(input: { name: string; redirectUri: string; clientId?: string; clientSecret?: string }): {
    clientId: string;
    clientSecret: string;
  };
  /** Ends the life of the OAuth access tokens issued to `user` (all users: undefined) now, as time would. */
  expireOAuthTokens(user?: string): void;
  /** Deletes a pull request comment, as its author would: reads of it answer 404 afterwards. */
  deleteComment(commentId: number): void;
  addRepository(repo: {
    project: string;
    slug: string;
    name?: string;
    defaultBranch?: string;
    forkOf?: RepoRef;
    files?: string[];
  }): SimRepository;
  addWebhook(hook: RepoRef & { url: string; events?: string[]; secret?: string; name?: string }): SimWebhook;
  setWebhookDelivery(target: WebhookTarget | undefined): void;
  /** Grants (or with undefined, revokes) a project permission; PROJECT_ADMIN manages project hooks. */
  setProjectPermission(input: {
    project: string;
    user: string;
    permission: ProjectPermission | undefined;
  }): void;
  /** Deletes a webhook, as an administrator would in Bitbucket's UI. */
  deleteWebhook(id: number): boolean;
  /** Edits a webhook (URL, events, active, secret) as an administrator would. */
  editWebhook(
    id: number,
    patch: { url?: string; events?: string[]; active?: boolean; secret?: string; name?: string },
  ): SimWebhook;
  /** While true, events reach no repository or project hook (a lost delivery): for missed-event scenarios. */
  holdWebhookDeliveries(hold: boolean): void;
  /** Delivers the events held back, late, to the hooks that want them now (a webhook that arrives after recovery). */
  deliverHeldWebhooks(): Promise<Delivery[]>;
  injectFaults(...faults: Fault[]): void;
  /** Turns the Code Insights API on or off (off: its resources answer 404). */
  setCodeInsights(enabled: boolean): void;
  /** The repository's required-builds merge check: these keys must be SUCCESSFUL to merge (empty: none). */
  requireBuilds(input: RepoRef & { keys: string[] }): void;
  /** The Code Insights report stored under `key` on the commit, with its annotations. */
  insightReport(input: RepoRef & { commit: string; key: string }): SimInsightReport | undefined;
  clearFaults(): void;
  /**
   * An outage: `unavailable` answers every REST call 503 (a node in maintenance; the calls are still
   * recorded, so a test can count what reached the server), `refused` stops listening — connections
   * are refused and nothing is recorded — and `undefined` ends it, listening again on the same port.
   */
  setOutage(mode: 'unavailable' | 'refused' | undefined): Promise<void>;
  push(
    input: RepoRef & { branch: string; files: FileSpec[]; message?: string; actor?: string },
  ): Promise<PushResult>;
  pushRefs(input: RepoRef & { changes: RefUpdate[]; actor?: string }): Promise<PushResult>;
  openPullRequest(
    input: RepoRef & {
      from: string;
      to: string;
      fromRepo?: RepoRef;
      title?: string;
      description?: string;
      author?: string;
      reviewers?: string[];
      draft?: boolean;
    },
  ): Promise<PullRequestResult>;
  updatePullRequestSource(input: PrRef & { files: FileSpec[]; message?: string }): Promise<PushResult>;
  retargetPullRequest(input: PrRef & { to: string }): Promise<PullRequestResult>;
  editPullRequest(input: PrRef & { title?: string; description?: string }): Promise<PullRequestResult>;
  review(input: PrRef & { user: string; status: ReviewStatus }): Promise<PullRequestResult>;
  mergePullRequest(input: PrRef): Promise<PullRequestResult>;
  declinePullRequest(input: PrRef): Promise<PullRequestResult>;
  deletePullRequest(input: PrRef): Promise<PullRequestResult>;
  addComment(
    input: PrRef & { text: string; parentId?: number },
  ): Promise<PullRequestResult & { commentId: number }>;
  /** "Test connection": an unsigned `diagnostics:ping` to `url`, or to every configured target. */
  ping(url?: string): Promise<ScenarioResult>;
  close(): Promise<void>;
}

const EVENT_PR_REVIEW: Record<ReviewStatus, string> = {
  APPROVED: 'pr:reviewer:approved',
  UNAPPROVED: 'pr:reviewer:unapproved',
  NEEDS_WORK: 'pr:reviewer:needs_work',
};

export async function startSimulator(options: SimulatorOptions = {}): Promise<BitbucketSimulator> {
  const state = new SimulatorState(options.now ?? Date.now);
  const contextPath = (options.contextPath ?? '').replace(/\/+$/, '');
  const version = options.version ?? (options.legacyBuildStatusOnly ? '7.3.2' : '8.19.1');
  const buildNumber = version
    .split('.')
    .map((part, i) => (i === 0 ? part : part.padStart(3, '0')))
    .join('');
  const userAgent = `Atlassian HttpClient 4.2.0 / Bitbucket-${version} (${buildNumber}) / Default`;
  let url = '';
  const baseUrl = options.baseUrl?.replace(/\/+$/, '');
  const render = new Renderer(state, () => baseUrl ?? url);
  const deliveries: Delivery[] = [];
  let globalTarget = options.webhookTarget;
  let holdDeliveries = false;
  /** Events held back from the hooks, for a late delivery (`deliverHeldWebhooks`). */
  const held: { repo: SimRepository; eventKey: string; body: Record<string, unknown> }[] = [];

  const ctx: RestContext = {
    state,
    render,
    pageSize: options.pageSize ?? 3,
    legacyBuildStatusOnly: options.legacyBuildStatusOnly ?? false,
    version,
    buildNumber,
    latencyMs: options.latencyMs ?? 0,
    faults: [],
    unavailable: false,
    codeInsights: options.codeInsights ?? !(options.legacyBuildStatusOnly ?? false),
    ...(options.rateLimit ? { buckets: new TokenBuckets(options.rateLimit) } : {}),
  };

  const app = express();
  app.disable('x-powered-by');
  /** The port to listen on again after a `refused` outage. */
  let listeningPort = 0;
  const server = options.tls
    ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, app)
    : http.createServer(app);

  function actorOf(name: string | undefined): string {
    if (name !== undefined) {
      if (!state.users.has(name)) throw new Error(`no user ${name} in the simulator`);
      return name;
    }
    const first =
      [...state.users.values()].find((u) => u.permission === 'admin') ?? state.users.values().next().value;
    if (!first) throw new Error('add a user to the simulator first: events need an actor');
    return first.name;
  }

  async function emit(
    repo: SimRepository,
    eventKey: string,
    payload: Record<string, unknown>,
    late?: { body: Record<string, unknown> },
  ): Promise<Delivery[]> {
    const targets: WebhookTarget[] = [];
    const global = late === undefined ? globalTarget : undefined;
    if (global) targets.push(global);
    const hooks: (SimWebhook | undefined)[] = global ? [undefined] : [];
    const body = late?.body ?? { eventKey, date: webhookDate(new Date(state.now())), ...payload };
    if (holdDeliveries) held.push({ repo, eventKey, body });
    // A disabled hook is not delivered to; while deliveries are held back (a scenario's "missed
    // event"), no repository or project hook is.
    for (const hook of holdDeliveries ? [] : state.webhooks) {
      const mine =
        hook.projectKey === undefined ? hook.repoId === repo.id : hook.projectKey === repo.projectKey;
      if (mine && hook.active && hook.events.includes(eventKey)) {
        const target: WebhookTarget = { url: hook.url };
        if (hook.configuration.secret) target.secret = hook.configuration.secret;
        targets.push(target);
        hooks.push(hook);
      }
    }
    const sent = await Promise.all(targets.map((t) => deliver(t, eventKey, body, userAgent, state.now)));
    sent.forEach((delivery, i) => {
      const hook = hooks[i];
      if (hook !== undefined) recordInvocation(hook, eventKey, delivery);
    });
    deliveries.push(...sent);
    return sent;
  }

  /** What the hook's statistics report: a 2xx is a success, another status a failure, no answer an error. */
  function recordInvocation(hook: SimWebhook, event: string, delivery: Delivery): void {
    const ok = delivery.status !== undefined && delivery.status >= 200 && delivery.status < 300;
    const invocation: SimInvocation = {
      id: state.id(),
      event,
      start: delivery.at,
      finish: state.now(),
      result:
        delivery.status === undefined
          ? { outcome: 'ERROR', description: delivery.error ?? 'no answer' }
          : { outcome: ok ? 'SUCCESS' : 'FAILURE', description: `${delivery.status}` },
    };
    hook.stats = {
      ...hook.stats,
      ...(invocation.result.outcome === 'SUCCESS'
        ? { lastSuccess: invocation }
        : invocation.result.outcome === 'FAILURE'
          ? { lastFailure: invocation }
          : { lastError: invocation }),
    };
  }

  function commitOn(
    repo: SimRepository,
    ref: string,
    files: FileSpec[],
    message: string,
    author: string,
  ): string {
    const parent = repo.refs.get(ref) ?? repo.refs.get(`refs/heads/${repo.defaultBranch}`);
    const tree = parent ? state.commits.get(parent)?.tree : undefined;
    const changes = files.map((f): SimFileChange => {
      const spec = typeof f === 'string' ? { path: f } : f;
      // Without an explicit type, a path the branch already has is modified, a new one added.
      const change: SimFileChange = {
        path: spec.path,
        type: spec.type ?? (tree?.has(spec.path) ? 'MODIFY' : 'ADD'),
      };
      if (spec.srcPath) change.srcPath = spec.srcPath;
      return change;
    });
    return state.createCommit(parent ? [parent] : [], changes, message, author).id;
  }

  function prOf(input: PrRef): { repo: SimRepository; pr: SimPullRequest } {
    const repo = state.requireRepository(input.project, input.repo);
    const pr = state.pullRequest(repo.id, input.id);
    if (!pr) throw new Error(`no pull request ${input.id} in ${input.project}/${input.repo}`);
    return { repo, pr };
  }

  function touch(pr: SimPullRequest): void {
    pr.version += 1;
    pr.updatedDate = state.now();
  }

  async function pushRefs(input: RepoRef & { changes: RefUpdate[]; actor?: string }): Promise<PushResult> {
    const repo = state.requireRepository(input.project, input.repo);
    const actor = actorOf(input.actor);
    const changes: Record<string, unknown>[] = [];
    const commits: string[] = [];
    const movedBranches: string[] = [];
    for (const update of input.changes) {
      let ref: string;
      let to: string;
      if ('branch' in update) {
        ref = `refs/heads/${update.branch}`;
        to = commitOn(
          repo,
          ref,
          update.files,
          update.message ?? `Change ${update.files.length} file(s)`,
          actor,
        );
        commits.push(to);
        movedBranches.push(ref);
      } else if ('tag' in update) {
        ref = `refs/tags/${update.tag}`;
        const at = update.at
          ? state.commit(repo, update.at)?.id
          : repo.refs.get(`refs/heads/${repo.defaultBranch}`);
        if (!at) throw new Error(`cannot tag ${update.at ?? 'the default branch'}: no such commit`);
        to = at;
      } else {
        ref =
          'deleteBranch' in update ? `refs/heads/${update.deleteBranch}` : `refs/tags/${update.deleteTag}`;
        if (!repo.refs.has(ref)) throw new Error(`cannot delete ${ref}: it does not exist`);
        to = ZERO_HASH;
      }
      // What the ref held and holds as git stores it: an annotated tag holds its tag object.
      const from = repo.tagObjects.get(ref) ?? repo.refs.get(ref) ?? ZERO_HASH;
      repo.tagObjects.delete(ref);
      let toHash = to;
      if (to === ZERO_HASH) repo.refs.delete(ref);
      else repo.refs.set(ref, to);
      if ('tag' in update && update.annotated) {
        toHash = state.createTagObject(ref, to, update.message ?? update.tag);
        repo.tagObjects.set(ref, toHash);
      }
      changes.push({
        ref: { id: ref, displayId: displayId(ref), type: ref.startsWith('refs/tags/') ? 'TAG' : 'BRANCH' },
        refId: ref,
        fromHash: from,
        toHash,
        type: from === ZERO_HASH ? 'ADD' : to === ZERO_HASH ? 'DELETE' : 'UPDATE',
      });
    }
    const sent = await emit(repo, 'repo:refs_changed', {
      actor: render.user(actor),
      repository: render.repository(repo),
      changes,
    });
    // Pushing to the source branch of an open pull request updates it (pr:from_ref_updated).
    for (const ref of movedBranches) {
      for (const pr of state.openPullRequestsFrom(repo.id, ref)) {
        const previousFromHash = changes.find((c) => c.refId === ref)!.fromHash as string;
        touch(pr);
        const target = state.repositories.get(pr.repoId)!;
        sent.push(
          ...(await emit(target, 'pr:from_ref_updated', {
            actor: render.user(actor),
            pullRequest: render.pullRequest(pr),
            previousFromHash,
          })),
        );
      }
    }
    return { commit: commits.at(-1) ?? '', commits, deliveries: sent };
  }

  async function prEvent(
    repo: SimRepository,
    pr: SimPullRequest,
    eventKey: string,
    actor: string,
    extra: Record<string, unknown> = {},
  ) {
    const deliveriesOut = await emit(repo, eventKey, {
      actor: render.user(actor),
      pullRequest: render.pullRequest(pr),
      ...extra,
    });
    return { id: pr.id, pullRequest: render.pullRequest(pr), deliveries: deliveriesOut };
  }

  const sim: BitbucketSimulator = {
    get url() {
      return url;
    },
    get port() {
      return (server.address() as AddressInfo).port;
    },
    state,
    recorded: {
      statuses: state.statuses,
      insightReports: state.insightReports,
      comments: state.comments,
      webhooks: state.webhooks,
      deliveries,
      requests: state.requests,
    },

    addUser({ name, token, permission = 'read', displayName, email }) {
      const user: SimUser = {
        id: state.id(),
        name,
        slug: name.toLowerCase().replace(/[^a-z0-9_.-]/g, '_'),
        displayName: displayName ?? name,
        emailAddress: email ?? `${name}@example.com`,
        token,
        permission,
      };
      state.users.set(name, user);
      return user;
    },

    setRepositoryPermission({ project, repo, user, permission }) {
      const key = `${project}/${repo}`;
      const grants = state.repositoryPermissions.get(key) ?? new Map<string, RepositoryPermission>();
      if (permission === undefined) grants.delete(user);
      else grants.set(user, permission);
      state.repositoryPermissions.set(key, grants);
    },

    addOAuthClient({ name, redirectUri, clientId, clientSecret }) {
      const client = {
        name,
        redirectUri,
        clientId: clientId ?? randomBytes(16).toString('hex'),
        clientSecret: clientSecret ?? randomBytes(32).toString('hex'),
      };
      state.oauth.clients.set(client.clientId, client);
      return { clientId: client.clientId, clientSecret: client.clientSecret };
    },

    expireOAuthTokens(user) {
      for (const grant of state.oauth.accessTokens.values())
        if (user === undefined || grant.user === user) grant.expiresAt = state.now();
    },

    deleteComment(commentId) {
      const at = state.comments.findIndex((c) => c.id === commentId);
      if (at >= 0) state.comments.splice(at, 1);
    },

    addProject({ key, name }) {
      const project: SimProject = { id: state.id(), key, name: name ?? key };
      state.projects.set(key, project);
      return project;
    },

    addRepository({ project, slug, name, defaultBranch = 'main', forkOf, files = ['README.md'] }) {
      if (!state.project(project)) sim.addProject({ key: project });
      const origin = forkOf ? state.requireRepository(forkOf.project, forkOf.repo) : undefined;
      const id = state.id();
      const repo: SimRepository = {
        id,
        slug,
        name: name ?? slug,
        projectKey: state.project(project)!.key,
        // Shared by a repository and its forks; derived, not random, so runs are reproducible.
        hierarchyId: origin?.hierarchyId ?? hierarchyIdOf(id, project, slug),
        defaultBranch: origin?.defaultBranch ?? defaultBranch,
        refs: new Map(origin?.refs ?? []),
        tagObjects: new Map(origin?.tagObjects ?? []),
      };
      if (origin) repo.originId = origin.id;
      else {
        const initial = state.createCommit(
          [],
          files.map((path) => ({ path, type: 'ADD' })),
          'Initial commit',
          'system',
        );
        repo.refs.set(`refs/heads/${defaultBranch}`, initial.id);
      }
      state.repositories.set(repo.id, repo);
      return repo;
    },

    addWebhook({ project, repo, url: target, events = ['repo:refs_changed'], secret, name }) {
      const r = state.requireRepository(project, repo);
      const now = state.now();
      const hook: SimWebhook = {
        id: state.id(),
        repoId: r.id,
        name: name ?? 'webhook',
        url: target,
        events,
        active: true,
        configuration: secret ? { secret } : {},
        createdDate: now,
        updatedDate: now,
      };
      state.webhooks.push(hook);
      return hook;
    },

    setWebhookDelivery(target) {
      globalTarget = target;
    },

    setProjectPermission({ project, user, permission }) {
      const grants = state.projectPermissions.get(project) ?? new Map<string, ProjectPermission>();
      if (permission === undefined) grants.delete(user);
      else grants.set(user, permission);
      state.projectPermissions.set(project, grants);
    },

    deleteWebhook(id) {
      const at = state.webhooks.findIndex((w) => w.id === id);
      if (at < 0) return false;
      state.webhooks.splice(at, 1);
      return true;
    },

    editWebhook(id, { url: target, events, active, secret, name }) {
      const hook = state.webhooks.find((w) => w.id === id);
      if (!hook) throw new Error(`no webhook ${id} in the simulator`);
      if (target !== undefined) hook.url = target;
      if (events !== undefined) hook.events = [...events];
      if (active !== undefined) hook.active = active;
      if (name !== undefined) hook.name = name;
      if (secret !== undefined) hook.configuration = { ...hook.configuration, secret };
      hook.updatedDate = state.now();
      return hook;
    },

    holdWebhookDeliveries(hold) {
      holdDeliveries = hold;
    },

    async deliverHeldWebhooks() {
      const late = held.splice(0);
      const sent: Delivery[] = [];
      for (const event of late)
        sent.push(...(await emit(event.repo, event.eventKey, {}, { body: event.body })));
      return sent;
    },

    injectFaults(...faults) {
      ctx.faults.push(...faults.map((f) => ({ count: 1, ...f })));
    },

    clearFaults() {
      ctx.faults.length = 0;
    },

    setCodeInsights(enabled) {
      ctx.codeInsights = enabled;
    },

    requireBuilds({ project, repo, keys }) {
      state.requiredBuilds.set(`${project}/${repo}`, [...keys]);
    },

    insightReport({ project, repo, commit, key }) {
      return state.insightReports.find(
        (r) => r.projectKey === project && r.slug === repo && r.commit === commit && r.key === key,
      );
    },

    async setOutage(mode) {
      ctx.unavailable = mode === 'unavailable';
      if (mode === 'refused' && server.listening) {
        listeningPort = (server.address() as AddressInfo).port;
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      } else if (mode !== 'refused' && !server.listening) {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(listeningPort, options.host ?? '127.0.0.1', () => {
            server.off('error', reject);
            resolve();
          });
        });
      }
    },

    push({ branch, files, message, ...rest }) {
      return pushRefs({
        ...rest,
        changes: [{ branch, files, ...(message !== undefined ? { message } : {}) }],
      });
    },

    pushRefs,

    async openPullRequest(input) {
      const target = state.requireRepository(input.project, input.repo);
      const source = input.fromRepo
        ? state.requireRepository(input.fromRepo.project, input.fromRepo.repo)
        : target;
      const fromRef = `refs/heads/${input.from}`;
      const toRef = `refs/heads/${input.to}`;
      if (!source.refs.has(fromRef))
        throw new Error(`no branch ${input.from} in ${source.projectKey}/${source.slug}`);
      if (!target.refs.has(toRef))
        throw new Error(`no branch ${input.to} in ${target.projectKey}/${target.slug}`);
      const author = actorOf(input.author);
      const now = state.now();
      const pr: SimPullRequest = {
        id: state.pullRequests.filter((p) => p.repoId === target.id).length + 1,
        repoId: target.id,
        fromRepoId: source.id,
        version: 0,
        title: input.title ?? `Merge ${input.from} into ${input.to}`,
        description: input.description ?? '',
        state: 'OPEN',
        draft: input.draft ?? false,
        fromRef,
        toRef,
        author,
        reviewers: (input.reviewers ?? []).map((user) => ({
          user: actorOf(user),
          status: 'UNAPPROVED' as const,
        })),
        createdDate: now,
        updatedDate: now,
        deleted: false,
      };
      state.pullRequests.push(pr);
      return prEvent(target, pr, 'pr:opened', author);
    },

    async updatePullRequestSource({ files, message, ...ref }) {
      const { pr } = prOf(ref);
      const source = state.repositories.get(pr.fromRepoId)!;
      return pushRefs({
        project: source.projectKey,
        repo: source.slug,
        ...(ref.actor !== undefined ? { actor: ref.actor } : {}),
        changes: [{ branch: displayId(pr.fromRef), files, ...(message !== undefined ? { message } : {}) }],
      });
    },

    async retargetPullRequest({ to, ...ref }) {
      const { repo, pr } = prOf(ref);
      const toRef = `refs/heads/${to}`;
      if (!repo.refs.has(toRef)) throw new Error(`no branch ${to}`);
      const previousTarget = render.ref(pr.toRef, repo.refs.get(pr.toRef) ?? ZERO_HASH);
      delete previousTarget.isDefault;
      pr.toRef = toRef;
      touch(pr);
      return prEvent(repo, pr, 'pr:modified', actorOf(ref.actor), {
        previousTitle: pr.title,
        previousDescription: pr.description,
        previousTarget,
      });
    },

    async editPullRequest({ title, description, ...ref }) {
      const { repo, pr } = prOf(ref);
      const previous = { previousTitle: pr.title, previousDescription: pr.description };
      const previousTarget = render.ref(pr.toRef, repo.refs.get(pr.toRef) ?? ZERO_HASH);
      delete previousTarget.isDefault;
      if (title !== undefined) pr.title = title;
      if (description !== undefined) pr.description = description;
      touch(pr);
      return prEvent(repo, pr, 'pr:modified', actorOf(ref.actor), { ...previous, previousTarget });
    },

    async review({ user, status, ...ref }) {
      const { repo, pr } = prOf(ref);
      const name = actorOf(user);
      let reviewer = pr.reviewers.find((r) => r.user === name);
      if (!reviewer) {
        reviewer = { user: name, status: 'UNAPPROVED' };
        pr.reviewers.push(reviewer);
      }
      const previousStatus = reviewer.status;
      reviewer.status = status;
      const head = state.repositories.get(pr.fromRepoId)!.refs.get(pr.fromRef);
      if (head) reviewer.lastReviewedCommit = head;
      return prEvent(repo, pr, EVENT_PR_REVIEW[status], name, {
        participant: render.participant(name, 'REVIEWER', status, head),
        previousStatus,
      });
    },

    async mergePullRequest(ref) {
      const { repo, pr } = prOf(ref);
      if (pr.state !== 'OPEN') throw new Error(`pull request ${pr.id} is ${pr.state}`);
      const actor = actorOf(ref.actor);
      const source = state.repositories.get(pr.fromRepoId)!.refs.get(pr.fromRef)!;
      const target = repo.refs.get(pr.toRef)!;
      const merge = state.createCommit(
        [target, source],
        state.compare(source, target),
        `Merge pull request #${pr.id}`,
        actor,
      );
      repo.refs.set(pr.toRef, merge.id);
      pr.state = 'MERGED';
      pr.closedDate = state.now();
      touch(pr);
      const result = await prEvent(repo, pr, 'pr:merged', actor);
      // The merge moves the target branch, so Bitbucket also reports the ref change.
      const refs = await emit(repo, 'repo:refs_changed', {
        actor: render.user(actor),
        repository: render.repository(repo),
        changes: [
          {
            ref: { id: pr.toRef, displayId: displayId(pr.toRef), type: 'BRANCH' },
            refId: pr.toRef,
            fromHash: target,
            toHash: merge.id,
            type: 'UPDATE',
          },
        ],
      });
      return { ...result, deliveries: [...result.deliveries, ...refs] };
    },

    async declinePullRequest(ref) {
      const { repo, pr } = prOf(ref);
      pr.state = 'DECLINED';
      pr.closedDate = state.now();
      touch(pr);
      return prEvent(repo, pr, 'pr:declined', actorOf(ref.actor));
    },

    async deletePullRequest(ref) {
      const { repo, pr } = prOf(ref);
      const result = await prEvent(repo, pr, 'pr:deleted', actorOf(ref.actor));
      pr.deleted = true;
      return result;
    },

    async addComment({ text, parentId, ...ref }) {
      const { repo, pr } = prOf(ref);
      const author = actorOf(ref.actor);
      const now = state.now();
      const comment: SimComment = {
        id: state.id(),
        version: 0,
        text,
        author,
        repoId: repo.id,
        pullRequestId: pr.id,
        createdDate: now,
        updatedDate: now,
        ...(parentId !== undefined ? { parentId } : {}),
      };
      state.comments.push(comment);
      const extra: Record<string, unknown> = { comment: render.comment(comment) };
      if (parentId !== undefined) extra.commentParentId = parentId;
      return { ...(await prEvent(repo, pr, 'pr:comment:added', author, extra)), commentId: comment.id };
    },

    async ping(target) {
      const targets: WebhookTarget[] = target
        ? [{ url: target }]
        : [
            ...(globalTarget ? [globalTarget] : []),
            ...state.webhooks.filter((h) => h.active).map((h) => ({ url: h.url })),
          ];
      const sent = await Promise.all(
        targets.map((t) => deliver(t, 'diagnostics:ping', { test: true }, userAgent, state.now)),
      );
      deliveries.push(...sent);
      return { deliveries: sent };
    },

    close() {
      if (!server.listening) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };

  app.use('/_sim', createScenarioRouter(sim));
  // Before the REST router: the consent form is a browser's POST, which carries no X-Atlassian-Token.
  app.use(
    contextPath || '/',
    createOAuthRouter(state, {
      codeSeconds: options.oauth?.codeSeconds ?? 600,
      accessTokenSeconds: options.oauth?.accessTokenSeconds ?? 3600,
    }),
  );
  app.use(contextPath || '/', createRestRouter(ctx));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  url = `${options.tls ? 'https' : 'http'}://${options.host === 'localhost' ? 'localhost' : host}:${address.port}${contextPath}`;
  return sim;
}

function hierarchyIdOf(seed: number, project: string, slug: string): string {
  return createHash('sha1').update(`hierarchy\0${seed}\0${project}\0${slug}`).digest('hex').slice(0, 20);
}
