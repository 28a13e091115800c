import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import { AppError } from '@stacklink/errors';

function digest(value: string): Buffer {
  // Hashing first gives equal-length buffers, so timingSafeEqual never leaks the token's length.
  return createHash('sha256').update(value, 'utf8').digest();
}

export function tokensEqual(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/** Each role's valid tokens: `{ admin: [ADMIN_TOKEN], runner: RUNNER_TOKENS }`. */
export type BearerRoles = Readonly<Record<string, string | readonly string[]>>;

const ROLE_KEY = 'bearerRole';

function tokenList(tokens: string | readonly string[]): string[] {
  return (typeof tokens === 'string' ? [tokens] : [...tokens]).filter((t) => t.length > 0);
}

/** The role `bearerAuth` authenticated on this response, if any. */
export function bearerRole(res: Response): string | undefined {
  const role: unknown = res.locals[ROLE_KEY];
  return typeof role === 'string' ? role : undefined;
}

/**
 * `Authorization: Bearer <token>` checked in constant time. Several tokens may be valid at once
 * (e.g. during a rotation), and tokens may belong to roles (`{ admin: [...], runner: [...] }`): the
 * role that matched is kept for `requireBearerRole`. Answers 401 with `WWW-Authenticate` and changes
 * nothing otherwise. A plain token list is the single role `default`.
 */
export function bearerAuth(
  tokens: string | readonly string[] | BearerRoles,
  realm = 'stacklink',
): RequestHandler {
  const roles: [role: string, token: string][] = [];
  if (typeof tokens === 'string' || Array.isArray(tokens)) {
    for (const token of tokenList(tokens as string | readonly string[])) roles.push(['default', token]);
  } else {
    for (const [role, list] of Object.entries(tokens as BearerRoles))
      for (const token of tokenList(list)) roles.push([role, token]);
  }
  if (roles.length === 0) throw new Error('bearerAuth needs at least one non-empty token');
  return (req, res, next) => {
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    let matched: string | undefined;
    if (match) {
      const presented = match[1]!;
      // Compare against every token so the time taken does not tell which one (or which role) matched.
      for (const [role, token] of roles)
        if (tokensEqual(presented, token) && matched === undefined) matched = role;
    }
    if (matched !== undefined) {
      res.locals[ROLE_KEY] = matched;
      next();
      return;
    }
    res.setHeader('WWW-Authenticate', `Bearer realm="${realm}"`);
    next(
      new AppError(
        'AUTH.UNAUTHORIZED',
        header === undefined ? 'missing Authorization: Bearer token' : 'invalid bearer token',
        { status: 401 },
      ),
    );
  };
}

/**
 * After `bearerAuth` with roles: lets only the named roles through. Any other (valid) token is a 403
 * `AUTH.FORBIDDEN` naming its role, so a runner token on an admin route is told it is the wrong token,
 * not an unknown one. Nothing is parsed or changed before this check.
 */
export function requireBearerRole(...allowed: string[]): RequestHandler {
  if (allowed.length === 0) throw new Error('requireBearerRole needs at least one role');
  return (_req, res, next) => {
    const role = bearerRole(res);
    if (role !== undefined && allowed.includes(role)) {
      next();
      return;
    }
    next(
      new AppError(
        'AUTH.FORBIDDEN',
        role === undefined
          ? 'this route needs a bearer token'
          : `a ${role} token may not use this route (it needs a ${allowed.join(' or ')} token)`,
        { status: role === undefined ? 401 : 403 },
      ),
    );
  };
}
