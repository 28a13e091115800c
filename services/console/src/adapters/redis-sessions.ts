import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * A browser's session. `signedIn: false` is the short-lived session a sign-in form is bound to, so even
 * the sign-in POST carries a CSRF token; signing in replaces it with a new id (no session fixation).
 */
export interface Session {
  id: string;
  /** An operator (signed in with ADMIN_TOKEN). */
  signedIn: boolean;
  /**
   * A viewer signed in with Bitbucket (issue 22): sees runs of repositories Bitbucket lets them read,
   * nothing else. Their tokens stay sealed (AES-256-GCM, SESSION_ENCRYPTION_KEY) in the session.
   */
  viewer?: ViewerIdentity;
  /** A "sign in with Bitbucket" under way: single use, bound to this (anonymous) session. */
  pendingSignIn?: PendingSignIn;
  /** Compared with the `_csrf` field of every POST. */
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
}

export interface ViewerIdentity {
  integrationId: string;
  integrationName: string;
  /** Their Bitbucket username (X-AUSERNAME at sign-in); absent in sessions made before it was kept. */
  username?: string;
  /** `{accessToken, refreshToken, expiresAt}` sealed with SESSION_ENCRYPTION_KEY. */
  sealedTokens: string;
}

export interface PendingSignIn {
  integrationId: string;
  state: string;
  codeVerifier: string;
  /** Where to land after signing in: a local path (safeNext). */
  next: string;
  startedAt: number;
}

export interface SessionsPort {
  create(signedIn: boolean, extra?: { viewer?: ViewerIdentity }): Promise<Session>;
  /** Stores a changed session (pending sign-in, refreshed tokens) under its id, its expiry unchanged. */
  save(session: Session): Promise<void>;
  /** The live session of that id (its idle clock restarted), or undefined when unknown or expired. */
  touch(id: string): Promise<Session | undefined>;
  /** The live session of that id, its idle clock left as it is (an open stream re-checking it). */
  peek(id: string): Promise<Session | undefined>;
  destroy(id: string): Promise<void>;
}

export interface SessionOptions {
  redis: Redis;
  /** `<NAMESPACE>:console:` (or `console:`). */
  keyPrefix: string;
  idleSeconds: number;
  maxSeconds: number;
  now?: () => number;
}

const ID = /^[A-Za-z0-9_-]{43}$/;
/**
 * A sign-in form's anonymous session lives at most this long: anyone may create one, so it must not
 * hold Redis memory for long.
 */
const ANONYMOUS_IDLE_SECONDS = 600;

export function consoleKeyPrefix(namespace: string): string {
  return namespace === '' ? 'console:' : `${namespace}:console:`;
}

/**
 * Sessions in Redis (docs/architecture.md §3: nothing here needs rebuilding: a flushed Redis signs
 * everyone out). The id is 32 random bytes; Redis keeps only its SHA-256, so a copy of Redis holds no
 * usable cookie. Idle expiry is the key's TTL, renewed on each use; absolute expiry is checked against
 * `createdAt` and caps that TTL.
 */
export function createRedisSessions(options: SessionOptions): SessionsPort {
  const now = options.now ?? Date.now;
  const key = (id: string) =>
    `${options.keyPrefix}session:${createHash('sha256').update(id).digest('base64url')}`;
  const idleMs = (session: Session) =>
    (session.signedIn || session.viewer
      ? options.idleSeconds
      : Math.min(options.idleSeconds, ANONYMOUS_IDLE_SECONDS)) * 1000;
  const ttlMs = (session: Session, at: number) =>
    Math.max(1, Math.min(idleMs(session), session.createdAt + options.maxSeconds * 1000 - at));
  /** The stored session if it has not expired (an expired one is deleted). */
  const live = async (id: string, at: number): Promise<Session | undefined> => {
    if (!ID.test(id)) return undefined;
    const text = await options.redis.get(key(id));
    if (text === null) return undefined;
    const session = { id, ...(JSON.parse(text) as Omit<Session, 'id'>) };
    if (at - session.createdAt >= options.maxSeconds * 1000 || at - session.lastSeenAt >= idleMs(session)) {
      await options.redis.del(key(id));
      return undefined;
    }
    return session;
  };
  return {
    async create(signedIn, extra = {}) {
      const at = now();
      const session: Session = {
        id: randomBytes(32).toString('base64url'),
        signedIn,
        ...(extra.viewer ? { viewer: extra.viewer } : {}),
        csrfToken: randomBytes(32).toString('base64url'),
        createdAt: at,
        lastSeenAt: at,
      };
      const { id, ...stored } = session;
      await options.redis.set(key(id), JSON.stringify(stored), 'PX', ttlMs(session, at));
      return session;
    },
    async touch(id) {
      const at = now();
      const session = await live(id, at);
      if (!session) return undefined;
      session.lastSeenAt = at;
      const { id: _id, ...stored } = session;
      await options.redis.set(key(id), JSON.stringify(stored), 'PX', ttlMs(session, at));
      return session;
    },
    peek: (id) => live(id, now()),
    async save(session) {
      const at = now();
      const { id, ...stored } = session;
      // XX: only an existing key is replaced, so a session that just expired is not brought back.
      await options.redis.set(key(id), JSON.stringify(stored), 'PX', ttlMs(session, at), 'XX');
    },
    async destroy(id) {
      if (ID.test(id)) await options.redis.del(key(id));
    },
  };
}
