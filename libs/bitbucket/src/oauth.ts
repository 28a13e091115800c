import { createHash, randomBytes } from 'node:crypto';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import axios from 'axios';
import { AppError } from '@stacklink/errors';
import { createBitbucketClient } from './client';
import { BitbucketErrorCode } from './errors';

/**
 * "Sign in with Bitbucket": Bitbucket Data Center's OAuth 2.0 provider (8.x, "Bitbucket OAuth 2.0
 * provider API"), authorization code flow with PKCE (RFC 7636, S256). A client is an incoming
 * application link; its redirect URL must be the one registered there. Nothing here logs or puts a
 * token, secret or code into an error message.
 */
export interface OAuthClientConfig {
  /** Base URL of Bitbucket the browser reaches (userFacingHost), for the authorization page. */
  authorizeBaseUrl: string;
  /** Base URL Stacklink calls (apiHost), for the token endpoint. */
  apiBaseUrl: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  caCertificate?: string;
  timeoutMs?: number;
}

export interface OAuthTokens {
  accessToken: string;
  refreshToken?: string;
  /** Epoch ms after which the access token no longer works. */
  expiresAt: number;
  scope: string;
}

/** 32 random bytes, base64url: a PKCE code verifier (43 characters, RFC 7636 §4.1). */
export function createCodeVerifier(): string {
  return randomBytes(32).toString('base64url');
}

/** The S256 challenge of a verifier: BASE64URL(SHA256(verifier)) (RFC 7636 §4.2). */
export function codeChallengeOf(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** Where to send the browser: Bitbucket's consent page, which comes back with `code` and `state`. */
export function authorizationUrl(
  config: Pick<OAuthClientConfig, 'authorizeBaseUrl' | 'clientId' | 'redirectUri'>,
  request: { state: string; codeChallenge: string; scope?: string },
): string {
  const url = new URL(`${config.authorizeBaseUrl.replace(/\/+$/, '')}/rest/oauth2/latest/authorize`);
  url.searchParams.set('client_id', config.clientId);
  url.searchParams.set('redirect_uri', config.redirectUri);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', request.scope ?? 'REPO_READ');
  url.searchParams.set('state', request.state);
  url.searchParams.set('code_challenge', request.codeChallenge);
  url.searchParams.set('code_challenge_method', 'S256');
  return url.toString();
}

/** The code from the redirect, exchanged server-side with the client secret and the PKCE verifier. */
export function exchangeAuthorizationCode(
  config: OAuthClientConfig,
  grant: { code: string; codeVerifier: string },
  now: () => number = Date.now,
): Promise<OAuthTokens> {
  return tokenRequest(
    config,
    {
      grant_type: 'authorization_code',
      code: grant.code,
      code_verifier: grant.codeVerifier,
      redirect_uri: config.redirectUri,
    },
    now,
  );
}

/** A new access token (and refresh token: Bitbucket rotates them) for an expired one. */
export function refreshAccessToken(
  config: OAuthClientConfig,
  refreshToken: string,
  now: () => number = Date.now,
): Promise<OAuthTokens> {
  return tokenRequest(config, { grant_type: 'refresh_token', refresh_token: refreshToken }, now);
}

async function tokenRequest(
  config: OAuthClientConfig,
  form: Record<string, string>,
  now: () => number,
): Promise<OAuthTokens> {
  const ca = config.caCertificate === undefined ? undefined : [...rootCertificates, config.caCertificate];
  let res;
  try {
    res = await axios.post<string>(
      `${config.apiBaseUrl.replace(/\/+$/, '')}/rest/oauth2/latest/token`,
      new URLSearchParams({
        ...form,
        client_id: config.clientId,
        client_secret: config.clientSecret,
      }).toString(),
      {
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        httpsAgent: new https.Agent(ca ? { ca } : {}),
        timeout: config.timeoutMs ?? 10_000,
        responseType: 'text',
        transformResponse: [(data: unknown) => data],
        validateStatus: () => true,
        maxRedirects: 0,
        proxy: false,
      },
    );
  } catch (err) {
    throw new AppError('BITBUCKET.OAUTH_UNREACHABLE', 'Bitbucket’s token endpoint did not answer', {
      status: 502,
      retryable: true,
      details: { cause: (err as { code?: string }).code },
    });
  }
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(res.data) as Record<string, unknown>;
  } catch {
    body = {};
  }
  if (res.status === 200 && typeof body.access_token === 'string') {
    const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : 3600;
    return {
      accessToken: body.access_token,
      ...(typeof body.refresh_token === 'string' ? { refreshToken: body.refresh_token } : {}),
      expiresAt: now() + expiresIn * 1000,
      scope: typeof body.scope === 'string' ? body.scope : '',
    };
  }
  // RFC 6749 §5.2: `error` is one of a few fixed words; its description is Bitbucket's, never ours.
  const error = typeof body.error === 'string' ? body.error.slice(0, 64) : `http_${res.status}`;
  throw new AppError('BITBUCKET.OAUTH_REFUSED', `Bitbucket refused the token request: ${error}`, {
    status: res.status === 401 || error === 'invalid_client' ? 502 : 401,
    details: { error, status: res.status },
  });
}

/** A Bitbucket server and a user's own access token. */
export interface UserTokenTarget {
  baseUrl: string;
  accessToken: string;
  caCertificate?: string;
  timeoutMs?: number;
}

const userClient = (input: UserTokenTarget) =>
  createBitbucketClient({
    baseUrl: input.baseUrl,
    token: input.accessToken,
    timeoutMs: input.timeoutMs ?? 10_000,
    retry: { maxAttempts: 2 },
    ...(input.caCertificate === undefined ? {} : { caCertificate: input.caCertificate }),
  });

/**
 * Whom the token belongs to: the username Bitbucket names in `X-AUSERNAME` on `GET /rest/capabilities`.
 * Throws BITBUCKET.UNAUTHORIZED when Bitbucket answers anonymously (the token was not accepted).
 */
export async function tokenUsername(input: UserTokenTarget): Promise<string> {
  return (await userClient(input).checkCredentials()).username;
}

/**
 * May the holder of `accessToken` read the repository? Asked of Bitbucket itself with the user's token:
 * 200 is `read`; 404, 403 and the documented 401 with AuthorisationException (insufficient permission)
 * are `denied`; any other 401 means the token itself was not accepted (expired, revoked):
 * `unauthenticated`, for the caller to refresh it. Anything else (Bitbucket down) throws, so a caller
 * never caches an outage as a "no".
 */
export async function repositoryAccess(
  input: UserTokenTarget & { projectKey: string; slug: string },
): Promise<'read' | 'denied' | 'unauthenticated'> {
  try {
    await userClient(input).getRepository(input.projectKey, input.slug);
    return 'read';
  } catch (err) {
    const e = err as { code?: unknown; details?: { exceptionNames?: string[] } };
    if (e.code === BitbucketErrorCode.FORBIDDEN || e.code === BitbucketErrorCode.NOT_FOUND) return 'denied';
    if (e.code === BitbucketErrorCode.UNAUTHORIZED)
      return (e.details?.exceptionNames ?? []).some((n) => n.endsWith('.AuthorisationException'))
        ? 'denied'
        : 'unauthenticated';
    throw err;
  }
}
