import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  exchangeAuthorizationCode,
  refreshAccessToken,
  repositoryAccess,
  tokenUsername,
  type OAuthClientConfig,
  type OAuthTokens,
} from '@stacklink/bitbucket';
import type { IntegrationApiClient } from '@stacklink/contracts';
import type { Session, SessionsPort } from './redis-sessions';
import type { TokenSealerPort } from './token-sealer';

/** What the console asks of Bitbucket for a viewer (issue 22), with the viewer's own token. */
export interface ViewerAccessPort {
  /** The integration's OAuth client, or undefined when it has none (or no longer exists). */
  oauthClient(integrationId: string): Promise<OAuthClientConfig | undefined>;
  /** The code from the redirect, exchanged server-side; throws AppError BITBUCKET.OAUTH_REFUSED. */
  exchange(client: OAuthClientConfig, code: string, codeVerifier: string): Promise<OAuthTokens>;
  /** Who signed in: the username Bitbucket names for the fresh token (shown in the header, logged). */
  username(client: OAuthClientConfig, tokens: OAuthTokens): Promise<string>;
  /** Seals the tokens into the viewer session (its id is the associated data). */
  sealInto(session: Session, tokens: OAuthTokens): string;
  /**
   * May this viewer read `P/r`? Asked of Bitbucket with their token (refreshed when expired), cached
   * for VIEWER_PERMISSION_CACHE_SECONDS per session and repository. Undefined: the session can no
   * longer reach Bitbucket as its user (token unreadable, refresh refused) and must end.
   */
  mayRead(session: Session, repository: { projectKey: string; slug: string }): Promise<boolean | undefined>;
}

const REFRESH_MARGIN_MS = 30_000;

export function createViewerAccess(options: {
  /** The integration service's internal API (libs/contracts), for the OAuth client. */
  integrationApi: IntegrationApiClient;
  sessions: SessionsPort;
  sealer: TokenSealerPort;
  redis: Redis;
  keyPrefix: string;
  cacheSeconds: number;
  redirectUri: (integrationId: string) => string;
  timeoutMs: number;
  registerSecret: (value: string) => void;
  now?: () => number;
}): ViewerAccessPort {
  const now = options.now ?? Date.now;
  const hash = (value: string) => createHash('sha256').update(value).digest('base64url');
  const context = (session: Session) => `viewer:${hash(session.id)}`;

  const oauthClient = async (integrationId: string): Promise<OAuthClientConfig | undefined> => {
    const c = await options.integrationApi.oauthClient(integrationId);
    if (c === undefined) return undefined;
    return {
      authorizeBaseUrl: c.userFacingHost,
      apiBaseUrl: c.apiHost,
      clientId: c.clientId,
      clientSecret: c.clientSecret,
      redirectUri: options.redirectUri(integrationId),
      timeoutMs: options.timeoutMs,
      ...(c.tls.caCertificate === undefined ? {} : { caCertificate: c.tls.caCertificate }),
    };
  };

  const seal = (session: Session, tokens: OAuthTokens) => {
    options.registerSecret(tokens.accessToken);
    if (tokens.refreshToken !== undefined) options.registerSecret(tokens.refreshToken);
    return options.sealer.seal(JSON.stringify(tokens), context(session));
  };

  /** The session's live tokens, refreshed (and saved) when they expire within the margin. */
  const tokensOf = async (session: Session, forceRefresh = false): Promise<OAuthTokens | undefined> => {
    const viewer = session.viewer;
    if (!viewer) return undefined;
    const opened = options.sealer.open(viewer.sealedTokens, context(session));
    if (opened === undefined) return undefined;
    const tokens = JSON.parse(opened) as OAuthTokens;
    options.registerSecret(tokens.accessToken);
    if (!forceRefresh && tokens.expiresAt - REFRESH_MARGIN_MS > now()) return tokens;
    if (tokens.refreshToken === undefined) return undefined;
    const client = await oauthClient(viewer.integrationId);
    if (!client) return undefined;
    let fresh: OAuthTokens;
    try {
      fresh = await refreshAccessToken(client, tokens.refreshToken, now);
    } catch (err) {
      if ((err as { code?: unknown }).code === 'BITBUCKET.OAUTH_REFUSED') return undefined;
      throw err;
    }
    viewer.sealedTokens = seal(session, {
      ...fresh,
      refreshToken: fresh.refreshToken ?? tokens.refreshToken,
    });
    await options.sessions.save(session);
    return fresh;
  };

  return {
    oauthClient,
    exchange: (client, code, codeVerifier) => exchangeAuthorizationCode(client, { code, codeVerifier }, now),
    username: (client, tokens) =>
      tokenUsername({
        baseUrl: client.apiBaseUrl,
        accessToken: tokens.accessToken,
        timeoutMs: options.timeoutMs,
        ...(client.caCertificate === undefined ? {} : { caCertificate: client.caCertificate }),
      }),
    sealInto: seal,
    async mayRead(session, repository) {
      const key = `${options.keyPrefix}viewer-read:${hash(session.id)}:${repository.projectKey}/${repository.slug}`;
      const cached = await options.redis.get(key);
      if (cached === '1' || cached === '0') return cached === '1';
      if (!session.viewer) return undefined;
      const client = await oauthClient(session.viewer.integrationId);
      if (!client) return undefined;
      const ask = async (forceRefresh: boolean) => {
        const tokens = await tokensOf(session, forceRefresh);
        if (!tokens) return undefined;
        return repositoryAccess({
          baseUrl: client.apiBaseUrl,
          accessToken: tokens.accessToken,
          projectKey: repository.projectKey,
          slug: repository.slug,
          timeoutMs: options.timeoutMs,
          ...(client.caCertificate === undefined ? {} : { caCertificate: client.caCertificate }),
        });
      };
      // A token Bitbucket no longer accepts (expired early, revoked) is refreshed once before giving up.
      let access = await ask(false);
      if (access === 'unauthenticated') access = await ask(true);
      if (access === undefined || access === 'unauthenticated') return undefined;
      const allowed = access === 'read';
      await options.redis.set(key, allowed ? '1' : '0', 'EX', options.cacheSeconds);
      return allowed;
    },
  };
}
