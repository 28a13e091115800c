import { randomBytes } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { authorizationUrl, codeChallengeOf, createCodeVerifier } from '@stacklink/bitbucket';
import { tokensEqual } from '@stacklink/http';
import type { SessionsPort } from '../adapters/redis-sessions';
import type { StacklinkApi } from '../adapters/stacklink-api';
import type { ViewerAccessPort } from '../adapters/viewer-access';
import { html } from '../views/html';
import { layout } from '../views/layout';
import { safeNext, setSessionCookie } from './session-middleware';

/** A sign-in started more than this long ago is not finished: Bitbucket's consent takes a minute at most. */
const PENDING_MAX_MS = 10 * 60 * 1000;
const ID = /^[A-Za-z0-9._-]{1,100}$/;

/**
 * "Sign in with Bitbucket" (issue 22, docs/decisions/013): OAuth 2.0 authorization code with PKCE
 * (S256) against the integration's Bitbucket. `state` is 32 random bytes bound to the browser's
 * anonymous session and spent on first use; the code is exchanged here, server-side, with the client
 * secret the integration service keeps; the tokens go sealed into a new viewer session and never reach
 * the browser, a log line or a page.
 */
export function createBitbucketAuthRouter(deps: {
  sessions: SessionsPort;
  viewerAccess: ViewerAccessPort;
  api: StacklinkApi;
}): Router {
  const router = Router();

  const refuse = (req: Request, res: Response, status: number, reason: string) => {
    req.log.warn('sign-in with Bitbucket refused', { reason: reason.slice(0, 200) });
    res
      .status(status)
      .type('html')
      .send(
        layout({
          title: 'Sign-in refused',
          body: html`<p class="alert" role="alert" id="sign-in-refused">${reason}</p>
            <p><a href="/sign-in">Back to sign-in</a></p>`,
        }),
      );
  };

  router.get('/auth/bitbucket/:integrationId/start', async (req, res) => {
    const integrationId = String(req.params.integrationId);
    const client = ID.test(integrationId) ? await deps.viewerAccess.oauthClient(integrationId) : undefined;
    if (!client) {
      refuse(req, res, 404, 'This integration does not offer sign-in with Bitbucket.');
      return;
    }
    // Bound to an anonymous session (created here when the browser has none), so the callback must come
    // back to the same browser; a viewer or operator signing in again starts from a fresh one.
    let session = req.session;
    if (!session || session.signedIn || session.viewer) {
      // Signing in again ends the session this browser had: one cookie, one identity.
      if (session) await deps.sessions.destroy(session.id);
      session = await deps.sessions.create(false);
      setSessionCookie(req, res, session);
    }
    const codeVerifier = createCodeVerifier();
    const state = randomBytes(32).toString('base64url');
    session.pendingSignIn = {
      integrationId,
      state,
      codeVerifier,
      next: safeNext(req.query.next),
      startedAt: Date.now(),
    };
    await deps.sessions.save(session);
    res.redirect(303, authorizationUrl(client, { state, codeChallenge: codeChallengeOf(codeVerifier) }));
  });

  router.get('/auth/bitbucket/:integrationId/callback', async (req, res) => {
    const integrationId = String(req.params.integrationId);
    const query = req.query as Record<string, unknown>;
    const session = req.session;
    const pending = session?.pendingSignIn;
    // Single use: whatever happens next, this state is spent.
    if (session && pending) {
      delete session.pendingSignIn;
      await deps.sessions.save(session);
    }
    const state = typeof query.state === 'string' ? query.state : '';
    if (
      !session ||
      !pending ||
      pending.integrationId !== integrationId ||
      Date.now() - pending.startedAt > PENDING_MAX_MS ||
      !tokensEqual(state, pending.state)
    ) {
      refuse(
        req,
        res,
        400,
        'This sign-in did not start here, was already used or expired (the state does not match). Start again.',
      );
      return;
    }
    if (typeof query.error === 'string') {
      refuse(req, res, 401, `Bitbucket did not sign you in (${query.error.slice(0, 64)}).`);
      return;
    }
    const code = typeof query.code === 'string' && query.code.length <= 2048 ? query.code : '';
    if (code === '') {
      refuse(req, res, 400, 'Bitbucket sent no code. Start again.');
      return;
    }
    const client = await deps.viewerAccess.oauthClient(integrationId);
    if (!client) {
      refuse(req, res, 404, 'This integration does not offer sign-in with Bitbucket.');
      return;
    }
    let tokens;
    try {
      tokens = await deps.viewerAccess.exchange(client, code, pending.codeVerifier);
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'BITBUCKET.OAUTH_REFUSED') throw err;
      const detail = (err as { details?: { error?: unknown } }).details?.error;
      const error = typeof detail === 'string' ? detail : 'refused';
      refuse(req, res, 401, `Bitbucket refused the sign-in (${error}). Start again.`);
      return;
    }
    const username = await deps.viewerAccess.username(client, tokens).catch((err: unknown) => {
      req.log.warn('Bitbucket did not say whom the new token belongs to', { integrationId, err });
      return undefined;
    });
    if (username === undefined) {
      refuse(req, res, 502, 'Bitbucket did not say who you are. Start again.');
      return;
    }
    const integration = await deps.api
      .call<{ name: string }>('integration', 'GET', `/integrations/${encodeURIComponent(integrationId)}`)
      .catch(() => ({ name: integrationId }));
    // A new id on sign-in (no fixation); the tokens are sealed with it as associated data.
    await deps.sessions.destroy(session.id);
    const viewerSession = await deps.sessions.create(false, {
      viewer: { integrationId, integrationName: integration.name, username, sealedTokens: '' },
    });
    viewerSession.viewer!.sealedTokens = deps.viewerAccess.sealInto(viewerSession, tokens);
    await deps.sessions.save(viewerSession);
    setSessionCookie(req, res, viewerSession);
    req.log.info('viewer signed in with Bitbucket', { integrationId, username });
    res.redirect(303, pending.next);
  });

  return router;
}
