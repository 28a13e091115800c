import { randomUUID } from 'node:crypto';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import type { Registry } from 'prom-client';
import { AppError, handleError } from '@stacklink/errors';
import type { Logger } from '@stacklink/logger';
import { getOrCreateHistogram, processRegistry } from './metrics';

export interface ReadinessCheck {
  /** Shown in the /readyz body, e.g. `rabbitmq`, `redis`, `store`. */
  name: string;
  check: () => boolean | Promise<boolean>;
  /**
   * false: the process still does its job without it (degraded), so it reports `degraded` but stays
   * ready — a load balancer must not take every replica out for it. true by default.
   */
  critical?: boolean;
}

export interface HttpAppOptions {
  service: string;
  logger: Logger;
  readiness?: ReadinessCheck[];
  registry?: Registry;
  /** Paths whose requests are not logged at info (probes, metrics, hot webhook route). */
  quietPaths?: RegExp;
}

declare module 'express-serve-static-core' {
  interface Request {
    requestId: string;
    log: Logger;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const READINESS_TIMEOUT_MS = 2000;

/**
 * Builds the express app every Stacklink HTTP process shares, without listening (tests start the
 * real thing on port 0): request ids, `/healthz`, `/readyz` driven by the registered checks,
 * `/metrics`, the caller's routes, then JSON 404 and error answers `{error: {code, message, details?}}`.
 */
export function createHttpApp(options: HttpAppOptions, mount: (app: Express) => void): Express {
  const registry = processRegistry(options.registry);
  const duration = getOrCreateHistogram(registry, {
    name: 'stacklink_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['service', 'method', 'route', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
  });
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.set('etag', false);

  const requestContext: RequestHandler = (req, res, next) => {
    const incoming = req.headers['x-request-id'];
    req.requestId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    req.log = options.logger.child({ requestId: req.requestId });
    res.setHeader('X-Request-Id', req.requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // The route's pattern, never the path itself: a request answered before any route matched (a 401
      // from the auth middleware, a 415) must not add a series per path anyone cares to send.
      const pattern = (req.route as { path?: string } | undefined)?.path;
      const route =
        pattern === undefined
          ? res.statusCode === 404
            ? 'unmatched'
            : 'unrouted'
          : String(req.baseUrl ?? '') + String(pattern);
      duration.observe(
        {
          service: options.service,
          method: req.method,
          route,
          status: res.statusCode,
        },
        seconds,
      );
    });
    next();
  };
  app.use(requestContext);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', service: options.service });
  });
  app.get('/readyz', async (_req, res) => {
    const results = await Promise.all(
      (options.readiness ?? []).map(async (c) => ({
        name: c.name,
        ok: await runCheck(c),
        critical: c.critical ?? true,
      })),
    );
    const ready = results.every((r) => r.ok || !r.critical);
    const degraded = results.some((r) => !r.ok);
    res.status(ready ? 200 : 503).json({
      status: ready ? (degraded ? 'degraded' : 'ready') : 'not ready',
      checks: Object.fromEntries(
        results.map((r) => [r.name, r.ok ? 'up' : r.critical ? 'down' : 'degraded']),
      ),
    });
  });
  app.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', registry.contentType);
    res.send(await registry.metrics());
  });

  mount(app);

  app.use((req, _res, next) => {
    next(new AppError('HTTP.NOT_FOUND', `no route for ${req.method} ${req.path}`, { status: 404 }));
  });
  const onError: ErrorRequestHandler = (err: unknown, req, res, _next) => {
    const { status, body } = handleError(fromRequestParsing(err), req.log ?? options.logger, {
      method: req.method,
      path: req.path,
    });
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(status).json(body);
  };
  app.use(onError);
  return app;
}

async function runCheck(c: ReadinessCheck): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), READINESS_TIMEOUT_MS);
    });
    return await Promise.race([Promise.resolve().then(c.check), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * body-parser signals problems with `type` and `status`, the router a path it cannot decode with a
 * URIError; give them our codes (the rest would be an opaque 500).
 */
function fromRequestParsing(err: unknown): unknown {
  if (err instanceof URIError)
    return new AppError('HTTP.INVALID_PATH', 'request path has invalid percent-encoding', { status: 400 });
  const e = err as { type?: string; status?: number; limit?: number };
  if (e && typeof e === 'object' && typeof e.type === 'string') {
    if (e.type === 'entity.too.large')
      return new AppError('HTTP.BODY_TOO_LARGE', `request body exceeds the limit of ${e.limit} bytes`, {
        status: 413,
      });
    if (e.type === 'entity.parse.failed')
      return new AppError('HTTP.INVALID_JSON', 'request body is not valid JSON', { status: 400 });
    if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported')
      return new AppError('HTTP.UNSUPPORTED_ENCODING', 'unsupported request encoding', { status: 415 });
  }
  return err;
}

/** JSON body parser for API routes; requests without a JSON content type get 415. */
export function jsonBody(limit = '1mb'): RequestHandler[] {
  const requireJson: RequestHandler = (req, _res, next) => {
    const hasBody = req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0';
    if ((hasBody || req.headers['transfer-encoding'] !== undefined) && !req.is('application/json')) {
      next(
        new AppError('HTTP.UNSUPPORTED_MEDIA_TYPE', 'request body must be application/json', { status: 415 }),
      );
      return;
    }
    next();
  };
  return [requireJson, express.json({ limit, strict: true })];
}
