import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import type { SimOAuthClient, SimulatorState } from './state';

/**
 * Bitbucket Data Center's OAuth 2.0 provider (8.x, "Bitbucket OAuth 2.0 provider API"): an incoming
 * application link is a client with a redirect URL; `/rest/oauth2/latest/authorize` signs the user in
 * and asks for consent, then redirects back with a single-use code and the client's `state`;
 * `/rest/oauth2/latest/token` exchanges the code (with the PKCE `code_verifier` when a `code_challenge`
 * was sent, S256) or a refresh token for a bearer token the REST API accepts as that user.
 * Errors follow RFC 6749: on the redirect (`error`, `error_description`, `state`) once client and
 * redirect URL are known good, otherwise a page; from the token endpoint `{error, error_description}`.
 */
export interface OAuthOptions {
  /** Lifetime of an authorization code (Bitbucket: a few minutes; RFC 6749 says at most 10). */
  codeSeconds: number;
  /** Lifetime of an access token. */
  accessTokenSeconds: number;
}

/** Bitbucket's OAuth 2.0 scopes, weakest first. */
export const OAUTH_SCOPES = [
  'PUBLIC_REPOS',
  'REPO_READ',
  'REPO_WRITE',
  'REPO_ADMIN',
  'PROJECT_ADMIN',
  'ADMIN',
  'SYSTEM_ADMIN',
] as const;

const AUTHORIZE = '/rest/oauth2/latest/authorize';
const TOKEN = '/rest/oauth2/latest/token';

const esc = (value: string) =>
  value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

const same = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

const token = () => randomBytes(32).toString('base64url');

/** BASE64URL(SHA256(verifier)) (RFC 7636 §4.2). */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

export function createOAuthRouter(state: SimulatorState, options: OAuthOptions): Router {
  const router = express.Router();
  router.use(AUTHORIZE, express.urlencoded({ extended: false }));
  router.use(TOKEN, express.urlencoded({ extended: false }));

  const str = (source: Record<string, unknown>, key: string) =>
    typeof source[key] === 'string' ? source[key] : undefined;

  const page = (res: Response, status: number, title: string, body: string) =>
    res
      .status(status)
      .type('html')
      .send(
        `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)} - Bitbucket</title></head>` +
          `<body><h1>${esc(title)}</h1>${body}</body></html>`,
      );

  /** Client and redirect URL first: until both are known good, nothing is redirected anywhere. */
  const checkRequest = (
    res: Response,
    params: Record<string, unknown>,
  ): { client: SimOAuthClient; redirect: (query: Record<string, string>) => void } | undefined => {
    const client = state.oauth.clients.get(str(params, 'client_id') ?? '');
    if (!client) {
      page(
        res,
        400,
        'Invalid request',
        '<p id="oauth-error">The client_id does not name an application link.</p>',
      );
      return undefined;
    }
    const redirectUri = str(params, 'redirect_uri') ?? client.redirectUri;
    if (redirectUri !== client.redirectUri) {
      page(
        res,
        400,
        'Invalid request',
        '<p id="oauth-error">The redirect_uri is not the one registered for this application link.</p>',
      );
      return undefined;
    }
    const stateParam = str(params, 'state');
    return {
      client,
      redirect: (query) => {
        const url = new URL(client.redirectUri);
        for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
        if (stateParam !== undefined) url.searchParams.set('state', stateParam);
        res.redirect(302, url.toString());
      },
    };
  };

  /** What the request asks for, or the RFC 6749 error to redirect with. */
  const checkGrant = (
    params: Record<string, unknown>,
  ): { error: string; description: string } | { scope: string; challenge?: string; method?: string } => {
    if (str(params, 'response_type') !== 'code')
      return { error: 'unsupported_response_type', description: 'response_type must be code' };
    const scope = str(params, 'scope') ?? 'PUBLIC_REPOS';
    if (!scope.split(/\s+/).every((s) => (OAUTH_SCOPES as readonly string[]).includes(s)))
      return { error: 'invalid_scope', description: `unknown scope in "${scope}"` };
    const challenge = str(params, 'code_challenge');
    const method = str(params, 'code_challenge_method');
    if (challenge === undefined) return { scope };
    if (method !== 'S256')
      return { error: 'invalid_request', description: 'code_challenge_method must be S256' };
    if (!/^[A-Za-z0-9_-]{43}$/.test(challenge))
      return { error: 'invalid_request', description: 'code_challenge must be 43 base64url characters' };
    return { scope, challenge, method };
  };

  const consent = (
    res: Response,
    status: number,
    client: SimOAuthClient,
    params: Record<string, unknown>,
    problem?: string,
  ) => {
    const keep = [
      'client_id',
      'redirect_uri',
      'response_type',
      'scope',
      'state',
      'code_challenge',
      'code_challenge_method',
    ]
      .filter((k) => str(params, k) !== undefined)
      .map((k) => `<input type="hidden" name="${k}" value="${esc(str(params, k)!)}">`)
      .join('');
    page(
      res,
      status,
      `Log in to allow ${client.name}`,
      `${problem ? `<p id="oauth-problem" role="alert">${esc(problem)}</p>` : ''}` +
        `<p><strong>${esc(client.name)}</strong> asks for ${esc(str(params, 'scope') ?? 'PUBLIC_REPOS')} access to your account.</p>` +
        `<form method="post" action="${esc(res.req.baseUrl)}${AUTHORIZE}" id="oauth-consent">${keep}` +
        `<label for="username">Username</label><input id="username" name="username" autocomplete="username">` +
        `<label for="password">Password</label><input id="password" name="password" type="password">` +
        `<button type="submit" name="decision" value="allow" id="allow">Allow</button>` +
        `<button type="submit" name="decision" value="deny" id="deny">Deny</button></form>`,
    );
  };

  router.get(AUTHORIZE, (req, res) => {
    const params = req.query as Record<string, unknown>;
    const checked = checkRequest(res, params);
    if (!checked) return;
    const grant = checkGrant(params);
    if ('error' in grant) {
      checked.redirect({ error: grant.error, error_description: grant.description });
      return;
    }
    consent(res, 200, checked.client, params);
  });

  router.post(AUTHORIZE, (req, res) => {
    const params = (req.body ?? {}) as Record<string, unknown>;
    const checked = checkRequest(res, params);
    if (!checked) return;
    const grant = checkGrant(params);
    if ('error' in grant) {
      checked.redirect({ error: grant.error, error_description: grant.description });
      return;
    }
    if (str(params, 'decision') !== 'allow') {
      checked.redirect({ error: 'access_denied', error_description: 'the user denied access' });
      return;
    }
    // The simulator's users sign in with their token as the password.
    const user = state.users.get(str(params, 'username') ?? '');
    if (!user || !same(user.token, str(params, 'password') ?? '')) {
      consent(res, 401, checked.client, params, 'Your username or password was incorrect.');
      return;
    }
    const code = token();
    state.oauth.codes.set(code, {
      clientId: checked.client.clientId,
      redirectUri: checked.client.redirectUri,
      user: user.name,
      scope: grant.scope,
      ...(grant.challenge !== undefined
        ? { codeChallenge: grant.challenge, codeChallengeMethod: 'S256' }
        : {}),
      expiresAt: state.now() + options.codeSeconds * 1000,
      used: false,
      issued: [],
    });
    checked.redirect({ code });
  });

  const tokenError = (res: Response, status: number, error: string, description: string) => {
    res.set('Cache-Control', 'no-store').status(status).json({ error, error_description: description });
  };

  /** client_secret_post or client_secret_basic (RFC 6749 §2.3.1). */
  const clientOf = (req: Request, body: Record<string, unknown>): SimOAuthClient | undefined => {
    let id = str(body, 'client_id');
    let secret = str(body, 'client_secret');
    const basic = /^Basic\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    if (basic) {
      const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      id = decodeURIComponent(decoded.slice(0, colon));
      secret = decodeURIComponent(decoded.slice(colon + 1));
    }
    const client = state.oauth.clients.get(id ?? '');
    return client && secret !== undefined && same(client.clientSecret, secret) ? client : undefined;
  };

  const issue = (res: Response, grant: { user: string; clientId: string; scope: string }): string => {
    const access = token();
    const refresh = token();
    const expiresAt = state.now() + options.accessTokenSeconds * 1000;
    state.oauth.accessTokens.set(access, { ...grant, expiresAt });
    state.oauth.refreshTokens.set(refresh, { ...grant, expiresAt: Number.MAX_SAFE_INTEGER });
    res.set('Cache-Control', 'no-store').json({
      scope: grant.scope,
      access_token: access,
      expires_in: options.accessTokenSeconds,
      token_type: 'bearer',
      refresh_token: refresh,
    });
    return access;
  };

  router.post(TOKEN, (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const client = clientOf(req, body);
    if (!client) return tokenError(res, 401, 'invalid_client', 'client authentication failed');
    const grantType = str(body, 'grant_type');
    if (grantType === 'authorization_code') {
      const code = state.oauth.codes.get(str(body, 'code') ?? '');
      if (!code || code.clientId !== client.clientId)
        return tokenError(res, 400, 'invalid_grant', 'the authorization code is not valid');
      if (code.used) {
        // A replayed code: refuse it and revoke what it bought (RFC 6749 §4.1.2).
        for (const issued of code.issued) state.oauth.accessTokens.delete(issued);
        return tokenError(res, 400, 'invalid_grant', 'the authorization code was already used');
      }
      code.used = true;
      if (code.expiresAt <= state.now())
        return tokenError(res, 400, 'invalid_grant', 'the authorization code has expired');
      if ((str(body, 'redirect_uri') ?? code.redirectUri) !== code.redirectUri)
        return tokenError(res, 400, 'invalid_grant', 'redirect_uri does not match the authorization request');
      if (code.codeChallenge !== undefined) {
        const verifier = str(body, 'code_verifier');
        if (verifier === undefined || !/^[A-Za-z0-9._~-]{43,128}$/.test(verifier))
          return tokenError(res, 400, 'invalid_request', 'code_verifier is required (43-128 characters)');
        if (!same(s256(verifier), code.codeChallenge))
          return tokenError(res, 400, 'invalid_grant', 'code_verifier does not match the code_challenge');
      }
      code.issued.push(issue(res, { user: code.user, clientId: client.clientId, scope: code.scope }));
      return;
    }
    if (grantType === 'refresh_token') {
      const presented = str(body, 'refresh_token') ?? '';
      const grant = state.oauth.refreshTokens.get(presented);
      if (!grant || grant.clientId !== client.clientId)
        return tokenError(res, 400, 'invalid_grant', 'the refresh token is not valid');
      // Refresh tokens rotate: the one presented is spent.
      state.oauth.refreshTokens.delete(presented);
      issue(res, { user: grant.user, clientId: grant.clientId, scope: grant.scope });
      return;
    }
    tokenError(res, 400, 'unsupported_grant_type', 'grant_type must be authorization_code or refresh_token');
  });

  return router;
}
