import { Router, type Request, type RequestHandler, type Response } from 'express';
import type { SessionsPort } from '../adapters/redis-sessions';
import { ApiError, type StacklinkApi } from '../adapters/stacklink-api';
import type { ViewerAccessPort } from '../adapters/viewer-access';
import { html } from '../views/html';
import { layout } from '../views/layout';
import { runTable } from '../views/run-table';
import { clearSessionCookie } from './session-middleware';
import type { RunViewAnswer, StackAnswer } from '@stacklink/contracts';

/**
 * What a viewer (signed in with Bitbucket) may open: their runs list, run pages with their live log, and
 * deliveries' decisions — each only for repositories Bitbucket lets them read. Everything else is the
 * same 404 page as a page that does not exist: no integrations, stack settings, dead letters or actions.
 */
const VIEWER_PATHS = [/^\/$/, /^\/stacks\/[^/]+\/runs\/[^/]+(\/log\/stream)?$/, /^\/deliveries\/[^/]+$/];

export const viewerGate: RequestHandler = (req, _res, next) => {
  if (!req.session?.viewer || req.session.signedIn) {
    next();
    return;
  }
  if ((req.method === 'GET' || req.method === 'HEAD') && VIEWER_PATHS.some((p) => p.test(req.path))) {
    next();
    return;
  }
  next(new ApiError(404, 'CONSOLE.NOT_FOUND', 'not found'));
};

/**
 * Lets the request go on when its session may see `repository`: operators always, viewers when
 * Bitbucket says they may read it. A viewer who may not is answered like a missing page (404 thrown);
 * a viewer whose Bitbucket sign-in no longer works is signed out and asked to sign in again (false,
 * the answer sent).
 */
export function createReadGuard(deps: { viewerAccess?: ViewerAccessPort; sessions: SessionsPort }) {
  return async (
    req: Request,
    res: Response,
    repository: { projectKey: string; slug: string },
  ): Promise<boolean> => {
    const session = req.session;
    if (!session?.viewer || session.signedIn) return true;
    const allowed = deps.viewerAccess ? await deps.viewerAccess.mayRead(session, repository) : undefined;
    if (allowed === true) return true;
    if (allowed === false) throw new ApiError(404, 'CONSOLE.NOT_FOUND', 'not found');
    req.log.info('viewer signed out: Bitbucket no longer accepts their sign-in');
    await deps.sessions.destroy(session.id);
    clearSessionCookie(req, res);
    res.redirect(303, `/sign-in?next=${encodeURIComponent(req.originalUrl)}`);
    return false;
  };
}

export type ReadGuard = ReturnType<typeof createReadGuard>;

/**
 * Keeps re-checking, every `intervalMs`, that an open live-log stream may stay open: its session still
 * exists (not signed out, not expired) and, for a viewer, Bitbucket still lets them read `repository`
 * (through the same per-session cache as pages). When not, `onLost` ends the stream; the browser's
 * reconnect then meets the page guard (404, or sign-in again). A check that cannot be made (Redis or
 * Bitbucket unreachable) leaves the stream open until the next one.
 */
export function createAccessWatch(deps: {
  viewerAccess?: ViewerAccessPort;
  sessions: SessionsPort;
  intervalMs: number;
}) {
  return (
    sessionId: string,
    repository: { projectKey: string; slug: string },
    onLost: (why: 'session-ended' | 'access-lost') => void,
  ): (() => void) => {
    let checking = false;
    const check = async () => {
      const session = await deps.sessions.peek(sessionId);
      if (!session) return 'session-ended' as const;
      if (!session.viewer || session.signedIn) return undefined;
      const allowed = deps.viewerAccess ? await deps.viewerAccess.mayRead(session, repository) : undefined;
      return allowed === true ? undefined : ('access-lost' as const);
    };
    const timer = setInterval(() => {
      if (checking) return;
      checking = true;
      check()
        .then(
          (lost) => {
            if (lost === undefined) return;
            clearInterval(timer);
            onLost(lost);
          },
          () => undefined,
        )
        .finally(() => (checking = false));
    }, deps.intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  };
}

export type AccessWatch = ReturnType<typeof createAccessWatch>;

/** A viewer's home: the recent runs of the stacks whose repositories they may read. */
export function createViewerHomeRouter(deps: { api: StacklinkApi; guard: ReadGuard }): Router {
  const router = Router();
  router.get('/', async (req, res, next) => {
    if (!req.session?.viewer || req.session.signedIn) {
      next();
      return;
    }
    const [{ stacks }, { runs }] = await Promise.all([
      deps.api.call<{ stacks: StackAnswer[] }>('stack-trigger', 'GET', '/stacks'),
      deps.api.call<{ runs: RunViewAnswer[] }>('stack-trigger', 'GET', '/runs?limit=100'),
    ]);
    const readable = new Set<string>();
    const checked = new Map<string, boolean>();
    for (const stack of stacks) {
      if (stack.integrationId !== req.session.viewer.integrationId) continue;
      const repo = `${stack.repository.projectKey}/${stack.repository.slug}`;
      if (!checked.has(repo)) {
        let ok = false;
        try {
          ok = await deps.guard(req, res, stack.repository);
          if (!ok) return;
        } catch (err) {
          if (!(err instanceof ApiError && err.status === 404)) throw err;
        }
        checked.set(repo, ok);
      }
      if (checked.get(repo)) readable.add(stack.id);
    }
    const visible = runs.filter((r) => readable.has(r.stackId));
    res.type('html').send(
      layout({
        title: 'Runs',
        session: req.session,
        current: '/',
        body: html`<p>
            The runs of the repositories you can read in ${req.session.viewer.integrationName}, newest first.
          </p>
          ${runTable(visible, 'runs')}`,
      }),
    );
  });
  return router;
}
