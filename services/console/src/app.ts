import path from 'node:path';
import express, {
  type ErrorRequestHandler,
  type Express,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import { handleError } from '@stacklink/errors';
import { createHttpApp, type ReadinessCheck } from '@stacklink/http';
import type { Logger } from '@stacklink/logger';
import type { SessionsPort } from './adapters/redis-sessions';
import type { SignInLimiterPort } from './adapters/redis-sign-in-limiter';
import { ApiError, type StacklinkApi } from './adapters/stacklink-api';
import type { ViewerAccessPort } from './adapters/viewer-access';
import { createAuthRouter } from './http/auth-router';
import { createBitbucketAuthRouter } from './http/bitbucket-auth-router';
import { createDeliveriesRouter } from './http/deliveries-router';
import { createIntegrationsRouter } from './http/integrations-router';
import { createOverviewRouter } from './http/overview-router';
import { loadSession, requireCsrf, requireSignIn } from './http/session-middleware';
import { createStacksRouter } from './http/stacks-router';
import { createAccessWatch, createReadGuard, createViewerHomeRouter, viewerGate } from './http/viewer-access';
import { html } from './views/html';
import { layout } from './views/layout';

export interface ConsoleAppDeps {
  logger: Logger;
  adminToken: string;
  sessions: SessionsPort;
  limiter: SignInLimiterPort;
  api: StacklinkApi;
  trustProxyHops: number;
  readiness?: ReadinessCheck[];
  /** "Sign in with Bitbucket" (issue 22); absent when SESSION_ENCRYPTION_KEY is unset. */
  viewerAccess?: ViewerAccessPort;
  /** PUBLIC_UI_URL: the redirect URL shown for the application link. */
  publicUiUrl: string;
  /**
   * How often an open live-log stream re-checks its session and, for a viewer, their read permission
   * (default 30 s; the role uses half of VIEWER_PERMISSION_CACHE_SECONDS).
   */
  accessRecheckMs?: number;
}

const ASSETS = path.resolve(__dirname, '../../public');

/**
 * No script but our own file, no style but our stylesheet, no frames, forms only to us: what a
 * template bug could inject has nowhere to load from or post to.
 */
const securityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader(
    'Content-Security-Policy',
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
      "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
  );
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'same-origin');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cache-Control', 'no-store');
  next();
};

/** The console (docs/architecture.md §15), built without listening so tests start it on port 0. */
export function createConsoleApp(deps: ConsoleAppDeps): Express {
  return createHttpApp(
    {
      service: 'console',
      logger: deps.logger,
      readiness: deps.readiness ?? [],
      quietPaths: /^\/(healthz|readyz|metrics|assets\/)/,
    },
    (app) => {
      // X-Forwarded-For / -Proto are believed only from the configured number of proxies.
      app.set('trust proxy', deps.trustProxyHops);
      app.use('/assets', express.static(ASSETS, { index: false, maxAge: '1h', fallthrough: false }));
      app.use(securityHeaders);
      app.use(express.urlencoded({ extended: false, limit: '256kb', parameterLimit: 200 }));
      app.use(loadSession(deps.sessions));
      app.use(createAuthRouter({ ...deps, signInWithBitbucket: deps.viewerAccess !== undefined }));
      if (deps.viewerAccess)
        app.use(
          createBitbucketAuthRouter({
            sessions: deps.sessions,
            viewerAccess: deps.viewerAccess,
            api: deps.api,
          }),
        );
      app.use(viewerGate);
      app.use(requireSignIn, requireCsrf);
      const guard = createReadGuard({
        sessions: deps.sessions,
        ...(deps.viewerAccess ? { viewerAccess: deps.viewerAccess } : {}),
      });
      app.use(createViewerHomeRouter({ api: deps.api, guard }));
      app.use(createOverviewRouter(deps));
      app.use(createIntegrationsRouter({ ...deps, signInWithBitbucket: deps.viewerAccess !== undefined }));
      const watch = createAccessWatch({
        sessions: deps.sessions,
        ...(deps.viewerAccess ? { viewerAccess: deps.viewerAccess } : {}),
        intervalMs: deps.accessRecheckMs ?? 30_000,
      });
      app.use(createStacksRouter({ ...deps, guard, watch }));
      app.use(createDeliveriesRouter({ ...deps, guard }));
      // One page for every "not found": a missing page, a missing run and a run the viewer may not read
      // look the same, so nobody learns which repositories exist from it.
      const notFoundPage = (req: Request, res: Response) => {
        res
          .status(404)
          .type('html')
          .send(
            layout({
              title: 'Not found',
              session: req.session,
              body: html`<p id="not-found">Nothing here at <code>${req.path}</code>.</p>`,
            }),
          );
      };
      app.use(notFoundPage);
      const onError: ErrorRequestHandler = (err: unknown, req, res, _next) => {
        const notFound = err instanceof ApiError && err.status === 404;
        if (notFound && !res.headersSent) {
          notFoundPage(req, res);
          return;
        }
        const { status } = notFound ? { status: 404 } : handleError(err, req.log, { path: req.path });
        if (res.headersSent) {
          res.end();
          return;
        }
        const message =
          err instanceof ApiError ? err.message : status === 502 ? 'A Stacklink API did not answer.' : '';
        res
          .status(status)
          .type('html')
          .send(
            layout({
              title: notFound ? 'Not found' : 'Something went wrong',
              session: req.session,
              body: html`<p class="alert" role="alert">
                ${message || 'The console could not show this page.'} (request ${req.requestId})
              </p>`,
            }),
          );
      };
      app.use(onError);
    },
  );
}
