import type { Request, RequestHandler, Response } from 'express';
import { tokensEqual } from '@stacklink/http';
import type { Session, SessionsPort } from '../adapters/redis-sessions';
import { html } from '../views/html';
import { layout } from '../views/layout';

declare module 'express-serve-static-core' {
  interface Request {
    session?: Session;
  }
}

export const SESSION_COOKIE = 'stacklink_session';

function cookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * HttpOnly (no script reads it), SameSite=Lax (no cross-site POST carries it), Secure when the request
 * came over https — directly or, with TRUST_PROXY_HOPS, through the ingress. A browser-session cookie:
 * the expiry that counts is the server's (SESSION_IDLE_SECONDS, SESSION_MAX_SECONDS).
 */
export function setSessionCookie(req: Request, res: Response, session: Session): void {
  res.append(
    'Set-Cookie',
    `${SESSION_COOKIE}=${session.id}; Path=/; HttpOnly; SameSite=Lax${req.secure ? '; Secure' : ''}`,
  );
}

export function clearSessionCookie(req: Request, res: Response): void {
  res.append(
    'Set-Cookie',
    `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${req.secure ? '; Secure' : ''}`,
  );
}

/** Loads the request's live session, if any, into `req.session`. */
export function loadSession(sessions: SessionsPort): RequestHandler {
  return async (req, _res, next) => {
    const id = cookie(req, SESSION_COOKIE);
    if (id !== undefined) {
      const session = await sessions.touch(id);
      if (session) req.session = session;
    }
    next();
  };
}

/** Local paths only: `next=` never sends anyone to another site. */
export function safeNext(value: unknown): string {
  return typeof value === 'string' && /^\/(?![/\\])[^\s]*$/.test(value) && value.length <= 2000 ? value : '/';
}

/**
 * Pages need a signed-in session: a page asks to sign in (and comes back after), anything else is
 * a 401.
 */
export const requireSignIn: RequestHandler = (req, res, next) => {
  // Viewers got here through viewerGate, which lets them reach their few pages only.
  if (req.session?.signedIn || req.session?.viewer) {
    next();
    return;
  }
  if (req.method === 'GET' && !req.path.endsWith('/stream')) {
    res.redirect(303, `/sign-in?next=${encodeURIComponent(req.originalUrl)}`);
    return;
  }
  res
    .status(401)
    .type('html')
    .send(
      layout({
        title: 'Sign in first',
        body: html`<p>Your session has ended. <a href="/sign-in">Sign in</a> again.</p>`,
      }),
    );
};

/**
 * Every state-changing request (every POST) carries the session's CSRF token in `_csrf`; compared in
 * constant time. A forged form from another site has neither the cookie (SameSite) nor the token.
 */
export const requireCsrf: RequestHandler = (req, res, next) => {
  if (req.method !== 'POST') {
    next();
    return;
  }
  const presented = (req.body as { _csrf?: unknown } | undefined)?._csrf;
  if (req.session && typeof presented === 'string' && tokensEqual(presented, req.session.csrfToken)) {
    next();
    return;
  }
  req.log.warn('form refused: CSRF token missing or wrong', { path: req.path });
  res
    .status(403)
    .type('html')
    .send(
      layout({
        title: 'Form refused',
        session: req.session,
        body: html`<p class="alert" role="alert" id="csrf-refused">
            This form was not sent from this console's page (its CSRF token is missing or wrong), so nothing
            was changed.
          </p>
          <p><a href="/">Back to the overview</a></p>`,
      }),
    );
};
