import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AppError } from '@stacklink/errors';

function digest(value: string): Buffer {
  // Hashing first gives equal-length buffers, so timingSafeEqual never leaks the token's length.
  return createHash('sha256').update(value, 'utf8').digest();
}

export function tokensEqual(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/**
 * `Authorization: Bearer <token>` checked in constant time. Several tokens may be valid at once
 * (e.g. during a rotation). Answers 401 with `WWW-Authenticate` and changes nothing otherwise.
 */
export function bearerAuth(tokens: string | readonly string[], realm = 'stacklink'): RequestHandler {
  const expected = (typeof tokens === 'string' ? [tokens] : [...tokens]).filter((t) => t.length > 0);
  if (expected.length === 0) throw new Error('bearerAuth needs at least one non-empty token');
  return (req, res, next) => {
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    let ok = false;
    if (match) {
      const presented = match[1]!;
      // Compare against every token so the time taken does not tell which one matched.
      for (const token of expected) ok = tokensEqual(presented, token) || ok;
    }
    if (ok) {
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
