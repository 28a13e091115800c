import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Renderer } from './payloads';
import { addCodeInsightsRoutes } from './code-insights';
import type { TokenBuckets } from './rate-limit';
import {
  PROJECT_PERMISSIONS,
  REPOSITORY_PERMISSIONS,
  type SimWebhook,
  ZERO_HASH,
  type RepositoryPermission,
  type SimRepository,
  type SimUser,
  type SimulatorState,
} from './state';

/** A fault the next matching requests will meet: latency, an error status, or both. */
export interface Fault {
  status?: number;
  latencyMs?: number;
  /** How many requests it applies to (default 1). */
  count?: number;
  /** For 429 faults: the Retry-After seconds to send (default 1). */
  retryAfterSeconds?: number;
  /** Only requests whose path (after the context path) starts with this string or matches this pattern. */
  path?: string | RegExp;
  method?: string;
}

export interface RestContext {
  state: SimulatorState;
  render: Renderer;
  pageSize: number;
  legacyBuildStatusOnly: boolean;
  version: string;
  buildNumber: string;
  latencyMs: number;
  faults: Fault[];
  buckets?: TokenBuckets;
  /** Set while the simulated server is down for maintenance: every REST call gets a 503 page. */
  unavailable: boolean;
  /** False: a server without Code Insights, whose report and annotation resources answer 404. */
  codeInsights: boolean;
}

export const WEBHOOK_EVENTS = [
  'repo:refs_changed',
  'repo:modified',
  'repo:forked',
  'repo:comment:added',
  'repo:comment:edited',
  'repo:comment:deleted',
  'pr:opened',
  'pr:from_ref_updated',
  'pr:modified',
  'pr:reviewer:updated',
  'pr:reviewer:approved',
  'pr:reviewer:unapproved',
  'pr:reviewer:needs_work',
  'pr:merged',
  'pr:declined',
  'pr:deleted',
  'pr:comment:added',
  'pr:comment:edited',
  'pr:comment:deleted',
  'mirror:repo_synchronized',
];

const MAX_COMMENT_LENGTH = 32_768;
const EX = 'com.atlassian.bitbucket';

function fail(
  res: Response,
  status: number,
  message: string,
  exceptionName: string | null,
  context: string | null = null,
): void {
  res.status(status).json({ errors: [{ context, message, exceptionName }] });
}

function param(req: Request, name: string): string {
  const value = (req.params as Record<string, string | undefined>)[name];
  return value ?? '';
}

function queryString(req: Request, name: string): string | undefined {
  const value = (req.query as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

const both = (path: string): string[] => [`/rest/api/1.0${path}`, `/rest/api/latest${path}`];

/** The Bitbucket REST subset, with its status codes, paging, error bodies and permission checks. */
export function createRestRouter(ctx: RestContext): Router {
  const { state, render } = ctx;
  const router = express.Router();

  router.use((req, res, next) => {
    const at = state.now();
    res.on('finish', () => {
      const user = (res.locals as { user?: SimUser }).user;
      state.requests.push({
        method: req.method,
        path: req.path,
        query: { ...req.query },
        status: res.statusCode,
        at,
        ...(user ? { user: user.name } : {}),
      });
    });
    next();
  });

  router.use((_req, res, next) => {
    if (!ctx.unavailable) return next();
    // What a Data Center node behind its proxy answers while it is upgraded or restarted: an HTML page.
    res
      .status(503)
      .type('text/html')
      .send('<html><body><h1>Bitbucket is unavailable</h1><p>Maintenance in progress.</p></body></html>');
  });

  // The request is read whole before anything is decided, as the servlet container in front of Bitbucket
  // does: a slow answer (latency, faults) to a write the client then gives up on still applies it.
  router.use(express.json({ limit: '2mb' }));

  router.use(async (req, res, next) => {
    if (ctx.latencyMs > 0) await delay(ctx.latencyMs);
    const fault = ctx.faults.find((f) => (f.count ?? 1) > 0 && matches(f, req));
    if (!fault) return next();
    fault.count = (fault.count ?? 1) - 1;
    if (fault.latencyMs) await delay(fault.latencyMs);
    if (fault.status === undefined) return next();
    if (fault.status === 429) res.set('Retry-After', String(fault.retryAfterSeconds ?? 1));
    fail(
      res,
      fault.status,
      `Injected failure (${fault.status})`,
      fault.status >= 500 ? 'java.lang.IllegalStateException' : null,
    );
  });

  router.use((req, res, next) => {
    const header = req.get('authorization');
    if (!header) return next();
    const user = authenticate(state, header);
    if (!user) {
      return fail(
        res,
        401,
        'Authentication failed. Please check your credentials and try again.',
        `${EX}.auth.IncorrectPasswordAuthenticationException`,
      );
    }
    res.locals.user = user;
    res.set('X-AUSERNAME', user.name);
    res.set('X-AUSERID', String(user.id));
    next();
  });

  router.use((req, res, next) => {
    if (!ctx.buckets) return next();
    const user = (res.locals as { user?: SimUser }).user;
    const wait = ctx.buckets.take(user ? `user:${user.name}` : `anonymous:${req.ip ?? ''}`);
    if (wait === 0) return next();
    res.set('Retry-After', String(wait));
    fail(
      res,
      429,
      'You have been rate limited. Please wait before trying again.',
      `${EX}.throttle.ThrottledException`,
    );
  });

  router.use((req, res, next) => {
    // Bitbucket's XSRF protection: writes must carry X-Atlassian-Token: no-check.
    if (req.method !== 'GET' && req.method !== 'HEAD' && req.get('x-atlassian-token') !== 'no-check') {
      return fail(res, 403, 'XSRF check failed', null);
    }
    next();
  });

  const user = (res: Response): SimUser | undefined => {
    const u = (res.locals as { user?: SimUser }).user;
    if (!u) fail(res, 401, 'You are not permitted to access this resource', `${EX}.AuthorisationException`);
    return u;
  };

  const repo = (req: Request, res: Response): SimRepository | undefined => {
    const projectKey = param(req, 'projectKey');
    if (!state.project(projectKey)) {
      fail(res, 404, `Project ${projectKey} does not exist.`, `${EX}.project.NoSuchProjectException`);
      return undefined;
    }
    const found = state.repository(projectKey, param(req, 'slug'));
    if (!found) {
      fail(
        res,
        404,
        `Repository ${projectKey}/${param(req, 'slug')} does not exist.`,
        `${EX}.repository.NoSuchRepositoryException`,
      );
      return undefined;
    }
    // Bitbucket's documented answer for a repository the caller may not see: 401 (REST reference,
    // GET /projects/{projectKey}/repos/{repositorySlug}: "insufficient permissions to see it").
    const u = (res.locals as { user?: SimUser }).user;
    if (u && state.permissionOn(u, found) === undefined) {
      fail(res, 401, `You are not permitted to access this resource`, `${EX}.AuthorisationException`);
      return undefined;
    }
    return found;
  };

  const page = <T>(req: Request, res: Response, items: T[], extra: Record<string, unknown> = {}): void => {
    const start = Math.max(0, Number.parseInt(queryString(req, 'start') ?? '0', 10) || 0);
    const asked = Number.parseInt(queryString(req, 'limit') ?? '', 10);
    const limit = Math.min(ctx.pageSize, asked > 0 ? asked : ctx.pageSize);
    const values = items.slice(start, start + limit);
    const isLastPage = start + values.length >= items.length;
    const body: Record<string, unknown> = { ...extra, size: values.length, limit, isLastPage, values, start };
    if (!isLastPage) body.nextPageStart = start + values.length;
    res.json(body);
  };

  router.get('/rest/api/1.0/application-properties', (_req, res) => {
    res.json({
      version: ctx.version,
      buildNumber: ctx.buildNumber,
      buildDate: '1735689600000',
      displayName: 'Bitbucket',
    });
  });

  router.get('/rest/capabilities', (_req, res) => {
    const base = render.baseUrl();
    const capabilities: Record<string, string> = {
      webhooks: `${base}/rest/webhooks/latest/capabilities`,
      navigation: `${base}/rest/capabilities/navigation`,
    };
    if (!ctx.legacyBuildStatusOnly) capabilities.build = `${base}/rest/api/latest/build/capabilities`;
    res.json({
      links: { self: `${base}/rest/capabilities` },
      application: 'stash',
      buildDate: '2025-01-01T00:00:00Z',
      capabilities,
    });
  });

  router.get('/rest/webhooks/latest/capabilities', (_req, res) => {
    res.json({ 'application-webhooks': WEBHOOK_EVENTS });
  });

  if (!ctx.legacyBuildStatusOnly) {
    router.get('/rest/api/latest/build/capabilities', (_req, res) => {
      res.json({ buildStatus: ['richBuildStatus'] });
    });
  }

  // Users, filtered as Bitbucket's user search is: `filter` (name, email or display name contains it) and
  // `permission.N` with `permission.N.projectKey` / `permission.N.repositorySlug` (users holding at
  // least that permission on the repository, however granted). Any licensed user may ask.
  router.get(both('/users'), (req, res) => {
    if (!user(res)) return;
    const filter = (queryString(req, 'filter') ?? '').toLowerCase();
    const wanted: { permission: RepositoryPermission; repository: SimRepository }[] = [];
    for (const n of ['', '.1', '.2', '.3']) {
      const permission = queryString(req, `permission${n}`);
      if (permission === undefined) continue;
      if (!(REPOSITORY_PERMISSIONS as readonly string[]).includes(permission))
        return fail(
          res,
          400,
          `${permission} is not a supported permission filter.`,
          `${EX}.IllegalArgumentException`,
        );
      const projectKey = queryString(req, `permission${n}.projectKey`) ?? '';
      const slug = queryString(req, `permission${n}.repositorySlug`) ?? '';
      const repository = state.repository(projectKey, slug);
      if (!repository)
        return fail(
          res,
          404,
          `Repository ${projectKey}/${slug} does not exist.`,
          `${EX}.repository.NoSuchRepositoryException`,
        );
      wanted.push({ permission: permission as RepositoryPermission, repository });
    }
    const holds = (u: SimUser, w: (typeof wanted)[number]) => {
      if (u.permission === 'admin') return true;
      const granted = state.repositoryPermissions
        .get(`${w.repository.projectKey}/${w.repository.slug}`)
        ?.get(u.name);
      return (
        granted !== undefined &&
        REPOSITORY_PERMISSIONS.indexOf(granted) >= REPOSITORY_PERMISSIONS.indexOf(w.permission)
      );
    };
    const found = [...state.users.values()]
      .filter(
        (u) =>
          filter === '' ||
          [u.name, u.emailAddress, u.displayName].some((v) => v.toLowerCase().includes(filter)),
      )
      .filter((u) => wanted.every((w) => holds(u, w)))
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((u) => render.user(u));
    page(req, res, found);
  });

  router.get(both('/projects'), (req, res) => {
    if (!user(res)) return;
    page(
      req,
      res,
      [...state.projects.values()].map((p) => render.project(p.key)),
    );
  });

  router.get(both('/projects/:projectKey'), (req, res) => {
    if (!user(res)) return;
    const project = state.project(param(req, 'projectKey'));
    if (!project)
      return fail(
        res,
        404,
        `Project ${param(req, 'projectKey')} does not exist.`,
        `${EX}.project.NoSuchProjectException`,
      );
    res.json(render.project(project.key));
  });

  router.get(both('/projects/:projectKey/repos'), (req, res) => {
    if (!user(res)) return;
    const project = state.project(param(req, 'projectKey'));
    if (!project)
      return fail(
        res,
        404,
        `Project ${param(req, 'projectKey')} does not exist.`,
        `${EX}.project.NoSuchProjectException`,
      );
    page(
      req,
      res,
      [...state.repositories.values()]
        .filter((r) => r.projectKey === project.key && state.permissionOn(res.locals.user as SimUser, r))
        .map((r) => render.repository(r)),
    );
  });

  router.get(both('/repos'), (req, res) => {
    const u = user(res);
    if (!u) return;
    const name = queryString(req, 'name')?.toLowerCase();
    const projectKey = queryString(req, 'projectkey')?.toLowerCase();
    const projectName = queryString(req, 'projectname')?.toLowerCase();
    const permission = queryString(req, 'permission');
    if (permission === 'REPO_ADMIN' && u.permission !== 'admin') return page(req, res, []);
    const repos = [...state.repositories.values()].filter((r) => {
      const project = state.project(r.projectKey)!;
      return (
        state.permissionOn(u, r) !== undefined &&
        (name === undefined || r.name.toLowerCase().includes(name)) &&
        (projectKey === undefined || project.key.toLowerCase() === projectKey) &&
        (projectName === undefined || project.name.toLowerCase().includes(projectName))
      );
    });
    page(
      req,
      res,
      repos.map((r) => render.repository(r)),
    );
  });

  const REPO = '/projects/:projectKey/repos/:slug';

  router.get(both(REPO), (req, res) => {
    if (!user(res)) return;
    const r = repo(req, res);
    if (r) res.json(render.repository(r));
  });

  router.get(both(`${REPO}/branches`), (req, res) => {
    if (!user(res)) return;
    const r = repo(req, res);
    if (!r) return;
    const filterText = (queryString(req, 'filterText') ?? '').toLowerCase();
    const refs = [...r.refs.entries()].filter(
      ([name]) =>
        name.startsWith('refs/heads/') && name.slice('refs/heads/'.length).toLowerCase().includes(filterText),
    );
    page(
      req,
      res,
      refs.map(([name, sha]) => render.ref(name, sha, name === `refs/heads/${r.defaultBranch}`)),
    );
  });

  // branch-utils: the branches whose history holds the commit (what "Branches" shows on a commit page).
  router.get(
    '/rest/branch-utils/:version/projects/:projectKey/repos/:slug/branches/info/:commitId',
    (req, res) => {
      if (!user(res)) return;
      const r = repo(req, res);
      if (!r) return;
      const commit = state.commit(r, param(req, 'commitId'));
      if (!commit) return noSuchCommit(res, param(req, 'commitId'), r);
      const branches = [...r.refs.entries()]
        .filter(([name, sha]) => name.startsWith('refs/heads/') && state.ancestors(sha).has(commit.id))
        .sort(([a], [b]) => a.localeCompare(b));
      page(
        req,
        res,
        branches.map(([name, sha]) => render.ref(name, sha, name === `refs/heads/${r.defaultBranch}`)),
      );
    },
  );

  const tagOf = (r: SimRepository, name: string, sha: string) =>
    render.ref(name, sha, false, r.tagObjects.get(name));

  router.get(both(`${REPO}/tags`), (req, res) => {
    if (!user(res)) return;
    const r = repo(req, res);
    if (!r) return;
    const filter = queryString(req, 'filterText') ?? '';
    const tags = [...r.refs.entries()]
      .filter(([name]) => name.startsWith('refs/tags/') && name.slice('refs/tags/'.length).includes(filter))
      .sort(([a], [b]) => a.localeCompare(b));
    page(
      req,
      res,
      tags.map(([name, sha]) => tagOf(r, name, sha)),
    );
  });

  // Tag names may hold slashes (`release/1.0`): Bitbucket maps `tags/{name:.*}`.
  router.get(both(`${REPO}/tags/*name`), (req, res) => {
    if (!user(res)) return;
    const r = repo(req, res);
    if (!r) return;
    const segments = (req.params as Record<string, string[] | string | undefined>).name ?? [];
    const name = Array.isArray(segments) ? segments.join('/') : segments;
    const ref = name.startsWith('refs/tags/') ? name : `refs/tags/${name}`;
    const sha = r.refs.get(ref);
    if (!sha) {
      return fail(
        res,
        404,
        `Tag '${name}' does not exist in repository '${r.slug}'.`,
        `${EX}.repository.NoSuchTagException`,
      );
    }
    res.json(tagOf(r, ref, sha));
  });

  router.get(both(`${REPO}/compare/changes`), (req, res) => {
    if (!user(res)) return;
    const r = repo(req, res);
    if (!r) return;
    const from = state.commit(r, queryString(req, 'from') ?? '');
    const to = state.commit(r, queryString(req, 'to') ?? '');
    if (!from || !to) {
      const missing = from ? queryString(req, 'to') : queryString(req, 'from');
      return fail(
        res,
        404,
        `Commit '${missing ?? ''}' does not exist in repository '${r.slug}'.`,
        `${EX}.commit.NoSuchCommitException`,
      );
    }
    page(
      req,
      res,
      state.compare(from.id, to.id).map((c) => render.change(c, from.id, r)),
    );
  });

  // Commits reachable from `until` (default: the default branch) and not from `since`, newest first.
  router.get(both(`${REPO}/commits`), (req, res) => {
    if (!user(res)) return;
    const r = repo(req, res);
    if (!r) return;
    const untilId = queryString(req, 'until') ?? `refs/heads/${r.defaultBranch}`;
    const until = state.commit(r, untilId);
    if (!until) return noSuchCommit(res, untilId, r);
    const sinceId = queryString(req, 'since');
    const since = sinceId === undefined ? undefined : state.commit(r, sinceId);
    if (sinceId !== undefined && !since) return noSuchCommit(res, sinceId, r);
    const excluded = since ? state.ancestors(since.id) : new Set<string>();
    const commits = [...state.ancestors(until.id)]
      .filter((sha) => !excluded.has(sha))
      .map((sha) => state.commits.get(sha)!)
      .sort((a, b) => b.seq - a.seq);
    page(
      req,
      res,
      commits.map((c) => render.commit(c)),
    );
  });

  router.get(both(`${REPO}/commits/:commitId`), (req, res) => {
    if (!user(res)) return;
    const r = repo(req, res);
    if (!r) return;
    const commit = state.commit(r, param(req, 'commitId'));
    if (!commit) return noSuchCommit(res, param(req, 'commitId'), r);
    res.json(render.commit(commit));
  });

  router.get(both(`${REPO}/commits/:commitId/changes`), (req, res) => {
    if (!user(res)) return;
    const r = repo(req, res);
    if (!r) return;
    const commit = state.commit(r, param(req, 'commitId'));
    if (!commit) return noSuchCommit(res, param(req, 'commitId'), r);
    const changes = [...commit.changes].sort((a, b) => a.path.localeCompare(b.path));
    page(
      req,
      res,
      changes.map((c) => render.change(c, commit.id, r)),
      {
        fromHash: commit.parents[0] ?? null,
        toHash: commit.id,
        properties: { changeScope: 'ALL' },
      },
    );
  });

  router.get(both(`${REPO}/commits/:commitId/pull-requests`), (req, res) => {
    if (!user(res)) return;
    const r = repo(req, res);
    if (!r) return;
    const commit = state.commit(r, param(req, 'commitId'));
    if (!commit) return noSuchCommit(res, param(req, 'commitId'), r);
    const prs = state.pullRequests.filter((pr) => {
      if (pr.deleted || (pr.repoId !== r.id && pr.fromRepoId !== r.id)) return false;
      const source = state.repositories.get(pr.fromRepoId)!.refs.get(pr.fromRef);
      const target = state.repositories.get(pr.repoId)!.refs.get(pr.toRef);
      if (!source) return false;
      return state.ancestors(source).has(commit.id) && !(target && state.ancestors(target).has(commit.id));
    });
    page(
      req,
      res,
      prs.map((pr) => render.pullRequest(pr)),
    );
  });

  router.get(both(`${REPO}/pull-requests`), (req, res) => {
    if (!user(res)) return;
    const r = repo(req, res);
    if (!r) return;
    const wanted = (queryString(req, 'state') ?? 'OPEN').toUpperCase();
    const prs = state.pullRequests.filter(
      (pr) => pr.repoId === r.id && !pr.deleted && (wanted === 'ALL' || pr.state === wanted),
    );
    page(
      req,
      res,
      prs.map((pr) => render.pullRequest(pr)),
    );
  });

  const pullRequest = (req: Request, res: Response) => {
    const r = repo(req, res);
    if (!r) return undefined;
    const id = Number(param(req, 'prId'));
    const pr = state.pullRequest(r.id, id);
    if (!pr) {
      fail(
        res,
        404,
        `Pull request ${param(req, 'prId')} does not exist in ${r.projectKey}/${r.slug}.`,
        `${EX}.pull.NoSuchPullRequestException`,
      );
      return undefined;
    }
    return { r, pr };
  };

  router.get(both(`${REPO}/pull-requests/:prId`), (req, res) => {
    if (!user(res)) return;
    const found = pullRequest(req, res);
    if (found) res.json(render.pullRequest(found.pr));
  });

  router.get(both(`${REPO}/pull-requests/:prId/changes`), (req, res) => {
    if (!user(res)) return;
    const found = pullRequest(req, res);
    if (!found) return;
    const { pr } = found;
    const from = state.repositories.get(pr.fromRepoId)!.refs.get(pr.fromRef) ?? ZERO_HASH;
    const to = state.repositories.get(pr.repoId)!.refs.get(pr.toRef) ?? ZERO_HASH;
    page(
      req,
      res,
      state.compare(from, to).map((c) => render.change(c, from, found.r)),
      {
        fromHash: to,
        toHash: from,
        properties: { changeScope: 'ALL' },
      },
    );
  });

  router.post(both(`${REPO}/pull-requests/:prId/comments`), (req, res) => {
    const u = user(res);
    if (!u) return;
    const found = pullRequest(req, res);
    if (!found) return;
    const body = (req.body ?? {}) as { text?: unknown; parent?: { id?: unknown } };
    if (typeof body.text !== 'string' || body.text.trim() === '') {
      return fail(
        res,
        400,
        'A comment must have text.',
        `${EX}.validation.ArgumentValidationException`,
        'text',
      );
    }
    if (body.text.length > MAX_COMMENT_LENGTH) {
      return fail(
        res,
        400,
        `Comments must be ${MAX_COMMENT_LENGTH} characters or fewer.`,
        `${EX}.validation.ArgumentValidationException`,
        'text',
      );
    }
    const parentId = typeof body.parent?.id === 'number' ? body.parent.id : undefined;
    if (
      parentId !== undefined &&
      !state.comments.some(
        (c) => c.id === parentId && c.pullRequestId === found.pr.id && c.repoId === found.r.id,
      )
    ) {
      return fail(res, 404, `Comment ${parentId} does not exist.`, `${EX}.comment.NoSuchCommentException`);
    }
    const now = state.now();
    const comment = {
      id: state.id(),
      version: 0,
      text: body.text,
      author: u.name,
      repoId: found.r.id,
      pullRequestId: found.pr.id,
      createdDate: now,
      updatedDate: now,
      ...(parentId !== undefined ? { parentId } : {}),
    };
    state.comments.push(comment);
    res.status(201).json(render.comment(comment));
  });

  // The pull request's activity, newest first, as Bitbucket pages it; only its comments are simulated
  // (one COMMENTED / ADDED activity per top-level comment, with the comment as it is now).
  router.get(both(`${REPO}/pull-requests/:prId/activities`), (req, res) => {
    if (!user(res)) return;
    const found = pullRequest(req, res);
    if (!found) return;
    const activities = state.comments
      .filter((c) => c.pullRequestId === found.pr.id && c.repoId === found.r.id && c.parentId === undefined)
      .reverse()
      .map((c) => ({
        id: c.id,
        createdDate: c.createdDate,
        user: render.user(c.author),
        action: 'COMMENTED',
        commentAction: 'ADDED',
        comment: render.comment(c),
      }));
    page(req, res, activities);
  });

  const comment = (req: Request, res: Response) => {
    const found = pullRequest(req, res);
    if (!found) return undefined;
    const c = state.comments.find(
      (x) =>
        x.id === Number(param(req, 'commentId')) &&
        x.pullRequestId === found.pr.id &&
        x.repoId === found.r.id,
    );
    if (!c)
      fail(
        res,
        404,
        `Comment ${param(req, 'commentId')} does not exist.`,
        `${EX}.comment.NoSuchCommentException`,
      );
    return c;
  };

  router.get(both(`${REPO}/pull-requests/:prId/comments/:commentId`), (req, res) => {
    if (!user(res)) return;
    const c = comment(req, res);
    if (c) res.json(render.comment(c));
  });

  router.put(both(`${REPO}/pull-requests/:prId/comments/:commentId`), (req, res) => {
    const u = user(res);
    if (!u) return;
    const c = comment(req, res);
    if (!c) return;
    const body = (req.body ?? {}) as { text?: unknown; version?: unknown };
    if (typeof body.version !== 'number') {
      return fail(
        res,
        400,
        'The comment version is required.',
        `${EX}.validation.ArgumentValidationException`,
        'version',
      );
    }
    if (body.version !== c.version) {
      return fail(
        res,
        409,
        'You are attempting to modify a comment based on out-of-date information.',
        `${EX}.comment.CommentOutOfDateException`,
      );
    }
    if (c.author !== u.name && u.permission !== 'admin') {
      return fail(res, 403, 'You are not permitted to edit this comment.', `${EX}.AuthorisationException`);
    }
    if (typeof body.text !== 'string' || body.text.length > MAX_COMMENT_LENGTH || body.text.trim() === '') {
      return fail(
        res,
        400,
        `Comments must have text of ${MAX_COMMENT_LENGTH} characters or fewer.`,
        `${EX}.validation.ArgumentValidationException`,
        'text',
      );
    }
    c.text = body.text;
    c.version += 1;
    c.updatedDate = state.now();
    res.json(render.comment(c));
  });

  if (!ctx.legacyBuildStatusOnly) {
    router.post(both(`${REPO}/commits/:commitId/builds`), (req, res) => {
      const u = user(res);
      if (!u) return;
      const r = repo(req, res);
      if (!r) return;
      const commit = state.commit(r, param(req, 'commitId'));
      if (!commit) return noSuchCommit(res, param(req, 'commitId'), r);
      const status = validBuildStatus(req, res, [
        'INPROGRESS',
        'SUCCESSFUL',
        'FAILED',
        'CANCELLED',
        'UNKNOWN',
      ]);
      if (!status) return;
      state.statuses.push({
        api: 'repository',
        projectKey: r.projectKey,
        slug: r.slug,
        commit: commit.id,
        user: u.name,
        at: state.now(),
        ...status,
      });
      res.status(204).end();
    });
  }

  router.post('/rest/build-status/1.0/commits/:commitId', (req, res) => {
    const u = user(res);
    if (!u) return;
    const status = validBuildStatus(req, res, ['INPROGRESS', 'SUCCESSFUL', 'FAILED']);
    if (!status) return;
    state.statuses.push({
      api: 'legacy',
      commit: param(req, 'commitId'),
      user: u.name,
      at: state.now(),
      ...status,
    });
    res.status(204).end();
  });

  router.get('/rest/build-status/1.0/commits/:commitId', (req, res) => {
    if (!user(res)) return;
    const list = state.statuses
      .filter((s) => s.commit === param(req, 'commitId'))
      .map((s) => ({
        state: s.state,
        key: s.key,
        name: s.name,
        url: s.url,
        description: s.description,
        dateAdded: s.at,
      }));
    page(req, res, list.reverse());
  });

  addCodeInsightsRoutes(router, {
    state,
    enabled: () => ctx.codeInsights,
    user,
    repo,
    pullRequest,
    fail,
    noSuchCommit,
    param,
  });

  /**
   * Webhooks need REPO_ADMIN on the repository (PROJECT_ADMIN on the project for a project hook), granted
   * directly, through the project, or globally. Like Bitbucket, the 403 names the permission.
   */
  const projectAdmin = (u: SimUser, projectKey: string): boolean => {
    if (u.permission === 'admin') return true;
    const granted = state.projectPermissions.get(projectKey)?.get(u.name);
    return (
      granted !== undefined &&
      PROJECT_PERMISSIONS.indexOf(granted) >= PROJECT_PERMISSIONS.indexOf('PROJECT_ADMIN')
    );
  };
  const repoAdmin = (u: SimUser, r: SimRepository): boolean =>
    projectAdmin(u, r.projectKey) ||
    state.repositoryPermissions.get(`${r.projectKey}/${r.slug}`)?.get(u.name) === 'REPO_ADMIN';
  const forbidden = (res: Response, u: SimUser, permission: string, on: string): void =>
    fail(
      res,
      403,
      `You are not permitted to access this resource. ${u.name} needs ${permission} permission on ${on} to manage its webhooks.`,
      `${EX}.AuthorisationException`,
    );

  /** The hooks of a repository or project scope, after the permission check; undefined after an error answer. */
  const hookScope = (
    req: Request,
    res: Response,
  ): { owns: (w: SimWebhook) => boolean; create: { repoId: number; projectKey?: string } } | undefined => {
    const u = user(res);
    if (!u) return undefined;
    const projectKey = param(req, 'projectKey');
    if (param(req, 'slug') === '') {
      if (!state.project(projectKey)) {
        fail(res, 404, `Project ${projectKey} does not exist.`, `${EX}.project.NoSuchProjectException`);
        return undefined;
      }
      if (!projectAdmin(u, projectKey)) {
        forbidden(res, u, 'PROJECT_ADMIN', `project ${projectKey}`);
        return undefined;
      }
      return { owns: (w) => w.projectKey === projectKey, create: { repoId: 0, projectKey } };
    }
    const r = repo(req, res);
    if (!r) return undefined;
    if (!repoAdmin(u, r)) {
      forbidden(res, u, 'REPO_ADMIN', `repository ${r.projectKey}/${r.slug}`);
      return undefined;
    }
    return { owns: (w) => w.projectKey === undefined && w.repoId === r.id, create: { repoId: r.id } };
  };

  const webhook = (req: Request, res: Response) => {
    const scope = hookScope(req, res);
    if (!scope) return undefined;
    const hook = state.webhooks.find((w) => scope.owns(w) && w.id === Number(param(req, 'webhookId')));
    if (!hook)
      fail(
        res,
        404,
        `Webhook ${param(req, 'webhookId')} does not exist.`,
        `${EX}.webhook.NoSuchWebhookException`,
      );
    return hook;
  };

  for (const base of ['/projects/:projectKey', REPO]) {
    router.get(both(`${base}/webhooks`), (req, res) => {
      const scope = hookScope(req, res);
      if (scope) page(req, res, state.webhooks.filter(scope.owns).map(webhookJson));
    });

    router.post(both(`${base}/webhooks`), (req, res) => {
      const scope = hookScope(req, res);
      if (!scope) return;
      const body = validWebhook(req, res);
      if (!body) return;
      const now = state.now();
      const hook: SimWebhook = {
        id: state.id(),
        ...scope.create,
        createdDate: now,
        updatedDate: now,
        ...body,
      };
      state.webhooks.push(hook);
      res.status(201).json(webhookJson(hook));
    });

    router.get(both(`${base}/webhooks/:webhookId`), (req, res) => {
      const hook = webhook(req, res);
      if (hook) res.json(webhookJson(hook));
    });

    // The last success, failure (the receiver answered an error) and error (it could not be reached).
    router.get(both(`${base}/webhooks/:webhookId/statistics`), (req, res) => {
      const hook = webhook(req, res);
      if (hook) res.json({ ...(hook.stats ?? {}) });
    });

    router.put(both(`${base}/webhooks/:webhookId`), (req, res) => {
      const hook = webhook(req, res);
      if (!hook) return;
      const body = validWebhook(req, res);
      if (!body) return;
      Object.assign(hook, body, { updatedDate: state.now() });
      res.json(webhookJson(hook));
    });

    router.delete(both(`${base}/webhooks/:webhookId`), (req, res) => {
      const hook = webhook(req, res);
      if (!hook) return;
      state.webhooks.splice(state.webhooks.indexOf(hook), 1);
      res.status(204).end();
    });
  }

  // Anything else: what a Bitbucket (Tomcat) answers for a resource it does not have.
  router.use((_req, res) => {
    res
      .status(404)
      .type('text/html')
      .send('<!doctype html><html><head><title>404 Not Found</title></head><body>Not Found</body></html>');
  });

  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = (err as { status?: unknown }).status;
    if (status === 400 || (err as { type?: unknown }).type === 'entity.parse.failed') {
      return fail(res, 400, 'The request body is not valid JSON.', `${EX}.rest.BadRequestException`);
    }
    fail(res, 500, err instanceof Error ? err.message : 'internal error', 'java.lang.RuntimeException');
  });

  return router;
}

function matches(fault: Fault, req: Request): boolean {
  if (fault.method && fault.method.toUpperCase() !== req.method) return false;
  if (fault.path === undefined) return true;
  return typeof fault.path === 'string' ? req.path.startsWith(fault.path) : fault.path.test(req.path);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function authenticate(state: SimulatorState, header: string): SimUser | undefined {
  const bearer = /^Bearer\s+(\S+)$/i.exec(header);
  if (bearer) return state.userByToken(bearer[1]!);
  const basic = /^Basic\s+(\S+)$/i.exec(header);
  if (!basic) return undefined;
  const [name, token] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
  const user = state.users.get(name ?? '');
  return user && user.token === token ? user : undefined;
}

function noSuchCommit(res: Response, id: string, repo: SimRepository): void {
  fail(
    res,
    404,
    `Commit '${id}' does not exist in repository '${repo.slug}'.`,
    `${EX}.commit.NoSuchCommitException`,
  );
}

function validBuildStatus(
  req: Request,
  res: Response,
  states: string[],
):
  | { key: string; state: string; url: string; name?: string; description?: string; parent?: string }
  | undefined {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const bad = (field: string, message: string) => {
    fail(res, 400, message, `${EX}.validation.ArgumentValidationException`, field);
    return undefined;
  };
  if (typeof body.key !== 'string' || body.key === '' || body.key.length > 255)
    return bad('key', 'key is required, up to 255 characters');
  if (typeof body.state !== 'string' || !states.includes(body.state))
    return bad('state', `state must be one of ${states.join(', ')}`);
  if (typeof body.url !== 'string' || body.url === '' || body.url.length > 450)
    return bad('url', 'url is required, up to 450 characters');
  if (body.parent !== undefined && (typeof body.parent !== 'string' || body.parent.length > 255))
    return bad('parent', 'parent may have up to 255 characters');
  const status: {
    key: string;
    state: string;
    url: string;
    name?: string;
    description?: string;
    parent?: string;
  } = {
    key: body.key,
    state: body.state,
    url: body.url,
  };
  if (typeof body.name === 'string') status.name = body.name;
  if (typeof body.description === 'string') status.description = body.description;
  if (typeof body.parent === 'string') status.parent = body.parent;
  return status;
}

function validWebhook(
  req: Request,
  res: Response,
):
  | { name: string; url: string; events: string[]; active: boolean; configuration: Record<string, string> }
  | undefined {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const bad = (field: string, message: string) => {
    fail(res, 400, message, `${EX}.validation.ArgumentValidationException`, field);
    return undefined;
  };
  if (typeof body.name !== 'string' || body.name === '') return bad('name', 'name is required');
  if (typeof body.url !== 'string' || !/^https?:\/\//.test(body.url))
    return bad('url', 'url must be an http(s) URL');
  const events = body.events;
  if (
    !Array.isArray(events) ||
    events.length === 0 ||
    events.some((e) => typeof e !== 'string' || !WEBHOOK_EVENTS.includes(e))
  ) {
    return bad('events', `events must be a non-empty list of: ${WEBHOOK_EVENTS.join(', ')}`);
  }
  const configuration: Record<string, string> = {};
  if (typeof body.configuration === 'object' && body.configuration !== null) {
    for (const [k, v] of Object.entries(body.configuration)) if (typeof v === 'string') configuration[k] = v;
  }
  return {
    name: body.name,
    url: body.url,
    events: events as string[],
    active: body.active !== false,
    configuration,
  };
}

function webhookJson(hook: {
  id: number;
  projectKey?: string;
  name: string;
  createdDate: number;
  updatedDate: number;
  events: string[];
  configuration: Record<string, string>;
  url: string;
  active: boolean;
}): Record<string, unknown> {
  return {
    id: hook.id,
    name: hook.name,
    createdDate: hook.createdDate,
    updatedDate: hook.updatedDate,
    events: hook.events,
    configuration: hook.configuration,
    url: hook.url,
    active: hook.active,
    scopeType: hook.projectKey === undefined ? 'repository' : 'project',
    sslVerificationRequired: true,
  };
}
