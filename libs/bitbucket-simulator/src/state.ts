import type { SimInsightReport } from './code-insights';
import { createHash } from 'node:crypto';

/**
 * A user's global standing: `admin` holds every permission (SYS_ADMIN), `read` reads every repository (a
 * project-wide REPO_READ everywhere, what the service accounts of the tests have), `licensed` is a
 * licensed user who sees only the repositories granted to them (setRepositoryPermission).
 */
export type Permission = 'read' | 'admin' | 'licensed';

/** Bitbucket's repository permissions, weakest first (a project or global grant implies them). */
export const REPOSITORY_PERMISSIONS = ['REPO_READ', 'REPO_WRITE', 'REPO_ADMIN'] as const;
export type RepositoryPermission = (typeof REPOSITORY_PERMISSIONS)[number];
export const PROJECT_PERMISSIONS = ['PROJECT_READ', 'PROJECT_WRITE', 'PROJECT_ADMIN'] as const;
export type ProjectPermission = (typeof PROJECT_PERMISSIONS)[number];

export interface SimUser {
  id: number;
  name: string;
  slug: string;
  displayName: string;
  emailAddress: string;
  token: string;
  permission: Permission;
}

export interface SimProject {
  id: number;
  key: string;
  name: string;
}

export interface SimRepository {
  id: number;
  slug: string;
  name: string;
  projectKey: string;
  hierarchyId: string;
  /** The repository this one was forked from. */
  originId?: number;
  defaultBranch: string;
  /** Fully qualified ref name (`refs/heads/main`, `refs/tags/v1`) → commit sha (tags peeled). */
  refs: Map<string, string>;
  /**
   * Annotated tags: ref name → the tag object's sha. Git keeps the tag object, which names the commit;
   * webhooks carry the tag object as `toHash`, the tags REST resource both (`hash`, `latestCommit`).
   */
  tagObjects: Map<string, string>;
}

export type FileChangeType = 'ADD' | 'MODIFY' | 'DELETE' | 'MOVE';

export interface SimFileChange {
  path: string;
  type: FileChangeType;
  srcPath?: string;
}

export interface SimCommit {
  id: string;
  parents: string[];
  message: string;
  author: string;
  timestamp: number;
  /** Creation order; timestamps of quick successive commits tie. */
  seq: number;
  changes: SimFileChange[];
  /** Paths present after this commit. */
  tree: Set<string>;
}

export type ReviewStatus = 'APPROVED' | 'UNAPPROVED' | 'NEEDS_WORK';

export interface SimReviewer {
  user: string;
  status: ReviewStatus;
  lastReviewedCommit?: string;
}

export interface SimPullRequest {
  id: number;
  /** The target repository: pull requests live there. */
  repoId: number;
  fromRepoId: number;
  version: number;
  title: string;
  description: string;
  state: 'OPEN' | 'MERGED' | 'DECLINED';
  draft: boolean;
  fromRef: string;
  toRef: string;
  author: string;
  reviewers: SimReviewer[];
  createdDate: number;
  updatedDate: number;
  closedDate?: number;
  deleted: boolean;
}

export interface SimComment {
  id: number;
  version: number;
  text: string;
  author: string;
  repoId: number;
  pullRequestId: number;
  parentId?: number;
  createdDate: number;
  updatedDate: number;
}

/** One delivery of a webhook, as its statistics resource reports it. */
export interface SimInvocation {
  id: number;
  event: string;
  start: number;
  finish: number;
  result: { outcome: 'SUCCESS' | 'FAILURE' | 'ERROR'; description: string };
}

export interface SimWebhook {
  id: number;
  /** The repository of a repository hook; 0 for a project hook. */
  repoId: number;
  /** Set for a project-level hook: it receives the events of every repository of the project. */
  projectKey?: string;
  /** What `…/webhooks/{id}/statistics` reports. */
  stats?: { lastSuccess?: SimInvocation; lastFailure?: SimInvocation; lastError?: SimInvocation };
  name: string;
  url: string;
  events: string[];
  active: boolean;
  configuration: Record<string, string>;
  createdDate: number;
  updatedDate: number;
}

export interface RecordedStatus {
  api: 'repository' | 'legacy';
  /** Unknown for the legacy API, which is not repository-scoped. */
  projectKey?: string;
  slug?: string;
  commit: string;
  key: string;
  state: string;
  url: string;
  name?: string;
  description?: string;
  /** The parent key (repository-scoped API only): required builds match it like the key. */
  parent?: string;
  user: string;
  at: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, unknown>;
  user?: string;
  status: number;
  at: number;
}

/** An incoming application link (Bitbucket: Administration → Application links → Create link). */
export interface SimOAuthClient {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  name: string;
}

export interface SimOAuthCode {
  clientId: string;
  redirectUri: string;
  user: string;
  scope: string;
  codeChallenge?: string;
  codeChallengeMethod?: string;
  expiresAt: number;
  used: boolean;
  /** Tokens issued for it: revoked when the code is replayed (RFC 6749 §4.1.2). */
  issued: string[];
}

export interface SimOAuthToken {
  user: string;
  clientId: string;
  scope: string;
  expiresAt: number;
}

export const ZERO_HASH = '0'.repeat(40);

/** Everything the simulated Bitbucket knows, in memory. */
export class SimulatorState {
  readonly users = new Map<string, SimUser>();
  readonly projects = new Map<string, SimProject>();
  readonly repositories = new Map<number, SimRepository>();
  readonly commits = new Map<string, SimCommit>();
  readonly pullRequests: SimPullRequest[] = [];
  readonly comments: SimComment[] = [];
  /** Repository permissions granted to users: `PROJECT/slug` → user name → permission. */
  readonly repositoryPermissions = new Map<string, Map<string, RepositoryPermission>>();
  /** Project permissions granted to users: project key → user name → permission. */
  readonly projectPermissions = new Map<string, Map<string, ProjectPermission>>();
  readonly webhooks: SimWebhook[] = [];
  readonly statuses: RecordedStatus[] = [];
  /** Code Insights reports with their annotations (code-insights.ts). */
  readonly insightReports: SimInsightReport[] = [];
  /** Required builds merge check: `PROJECT/slug` → build keys that must be SUCCESSFUL. */
  readonly requiredBuilds = new Map<string, string[]>();
  readonly requests: RecordedRequest[] = [];
  /** OAuth 2.0 (oauth.ts): incoming application links, codes and tokens. */
  readonly oauth = {
    clients: new Map<string, SimOAuthClient>(),
    codes: new Map<string, SimOAuthCode>(),
    accessTokens: new Map<string, SimOAuthToken>(),
    refreshTokens: new Map<string, SimOAuthToken>(),
  };
  private nextId = 1;
  private shaCounter = 0;

  /**
   * The simulator's clock (epoch ms): every date it records or renders comes from here, so a fixed
   * clock makes its output reproducible. Shas hash content and a counter, never the time.
   */
  constructor(readonly now: () => number = Date.now) {}

  id(): number {
    return this.nextId++;
  }

  userByToken(token: string): SimUser | undefined {
    for (const user of this.users.values()) if (user.token === token) return user;
    const granted = this.oauth.accessTokens.get(token);
    if (granted !== undefined && granted.expiresAt > this.now()) return this.users.get(granted.user);
    return undefined;
  }

  /** The strongest permission `user` holds on `repo`, however granted; undefined: none. */
  permissionOn(user: SimUser, repo: SimRepository): RepositoryPermission | undefined {
    if (user.permission === 'admin') return 'REPO_ADMIN';
    const granted = this.repositoryPermissions.get(`${repo.projectKey}/${repo.slug}`)?.get(user.name);
    if (user.permission === 'read' && granted === undefined) return 'REPO_READ';
    return granted;
  }

  repository(projectKey: string, slug: string): SimRepository | undefined {
    for (const repo of this.repositories.values()) {
      if (repo.projectKey.toLowerCase() === projectKey.toLowerCase() && repo.slug === slug) return repo;
    }
    return undefined;
  }

  requireRepository(projectKey: string, slug: string): SimRepository {
    const repo = this.repository(projectKey, slug);
    if (!repo) throw new Error(`no repository ${projectKey}/${slug} in the simulator`);
    return repo;
  }

  project(key: string): SimProject | undefined {
    for (const project of this.projects.values())
      if (project.key.toLowerCase() === key.toLowerCase()) return project;
    return undefined;
  }

  commit(repo: SimRepository, idOrRef: string): SimCommit | undefined {
    const sha =
      repo.refs.get(idOrRef) ??
      repo.refs.get(`refs/heads/${idOrRef}`) ??
      repo.refs.get(`refs/tags/${idOrRef}`);
    if (sha) return this.commits.get(sha);
    const direct = this.commits.get(idOrRef);
    if (direct) return direct;
    if (idOrRef.length >= 7) {
      for (const commit of this.commits.values()) if (commit.id.startsWith(idOrRef)) return commit;
    }
    return undefined;
  }

  createCommit(parents: string[], changes: SimFileChange[], message: string, author: string): SimCommit {
    const base = parents[0] ? this.commits.get(parents[0]) : undefined;
    const tree = new Set(base?.tree ?? []);
    for (const change of changes) {
      if (change.type === 'DELETE') tree.delete(change.path);
      else tree.add(change.path);
      if (change.type === 'MOVE' && change.srcPath) tree.delete(change.srcPath);
    }
    const id = createHash('sha1')
      .update(`${++this.shaCounter}\0${parents.join(',')}\0${message}\0${JSON.stringify(changes)}`)
      .digest('hex');
    const commit: SimCommit = {
      id,
      parents,
      message,
      author,
      timestamp: this.now(),
      seq: this.shaCounter,
      changes,
      tree,
    };
    this.commits.set(id, commit);
    return commit;
  }

  /** A new annotated tag object for `ref` on `commit`: its sha, unique like git's. */
  createTagObject(ref: string, commit: string, message: string): string {
    return createHash('sha1')
      .update(`tag\0${++this.shaCounter}\0${ref}\0${commit}\0${message}`)
      .digest('hex');
  }

  ancestors(sha: string): Set<string> {
    const seen = new Set<string>();
    const queue = [sha];
    while (queue.length > 0) {
      const next = queue.pop()!;
      if (seen.has(next)) continue;
      seen.add(next);
      queue.push(...(this.commits.get(next)?.parents ?? []));
    }
    return seen;
  }

  /** The files changed by commits reachable from `from` and not from `to`, newest change per path. */
  compare(from: string, to: string): SimFileChange[] {
    const excluded = this.ancestors(to);
    const commits = [...this.ancestors(from)]
      .filter((sha) => !excluded.has(sha))
      .map((sha) => this.commits.get(sha)!)
      .sort((a, b) => a.seq - b.seq);
    const byPath = new Map<string, SimFileChange>();
    for (const commit of commits) for (const change of commit.changes) byPath.set(change.path, change);
    return [...byPath.values()].sort((a, b) => a.path.localeCompare(b.path));
  }

  openPullRequestsFrom(repoId: number, ref: string): SimPullRequest[] {
    return this.pullRequests.filter(
      (pr) => pr.state === 'OPEN' && !pr.deleted && pr.fromRepoId === repoId && pr.fromRef === ref,
    );
  }

  pullRequest(repoId: number, id: number): SimPullRequest | undefined {
    return this.pullRequests.find((pr) => pr.repoId === repoId && pr.id === id && !pr.deleted);
  }
}
