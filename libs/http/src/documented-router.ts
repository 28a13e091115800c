import { Router, type Request, type RequestHandler, type Response } from 'express';
import type Joi from 'joi';
import { Joi as J } from '@stacklink/config';
import { validateInput } from './validate';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface ResponseSpec {
  description: string;
  /** What the answer carries; absent for an empty answer (204). */
  schema?: Joi.Schema;
  /** `application/json` unless said otherwise (e.g. `text/event-stream`). */
  contentType?: string;
  example?: unknown;
}

/** One route as the API serves it and as its OpenAPI description shows it. */
export interface RouteSpec {
  method: HttpMethod;
  /** The express path, relative to where the router is mounted: `/stacks/:id`. */
  path: string;
  summary: string;
  description?: string;
  /** The bearer roles that may call it (`admin`, `runner`, `internal`, `gateway`). */
  auth: readonly string[];
  /** Path parameters; each `:name` of the path is a plain string without it. */
  params?: Joi.ObjectSchema;
  query?: Joi.ObjectSchema;
  body?: Joi.Schema;
  bodyExample?: unknown;
  /** Every answer, errors included. */
  responses: Record<number, ResponseSpec>;
}

/** What a route's handler gets: the input, validated (and converted) by the spec's joi schemas. */
export interface RouteInput<Q, B> {
  params: Record<string, string>;
  query: Q;
  body: B;
}

export type RouteHandler<Q, B> = (
  input: RouteInput<Q, B>,
  req: Request,
  res: Response,
) => Promise<void> | void;

/** The express router plus the routes it serves, for the OpenAPI document. */
export interface DocumentedRouter {
  readonly router: Router;
  readonly routes: RouteSpec[];
  /** Registers the route: validation from the spec, then the handler; and records it for the document. */
  route<Q = undefined, B = undefined>(spec: RouteSpec, handler: RouteHandler<Q, B>): void;
  /** Plain middleware in front of the routes registered after it (authentication, role checks). */
  use(...handlers: RequestHandler[]): void;
}

const SPEC = Symbol.for('stacklink.routeSpec');

/** The spec a route handler was registered with, if it was (libs/testing's completeness check reads it). */
export function routeSpecOf(handler: unknown): RouteSpec | undefined {
  return typeof handler === 'function' ? (handler as { [SPEC]?: RouteSpec })[SPEC] : undefined;
}

/**
 * A router whose every route is described for OpenAPI by the same joi schemas that validate it, so the
 * document cannot drift from what is served (docs/architecture.md §16).
 */
export function createDocumentedRouter(): DocumentedRouter {
  const router = Router();
  const routes: RouteSpec[] = [];
  return {
    router,
    routes,
    use(...handlers) {
      router.use(...handlers);
    },
    route<Q, B>(spec: RouteSpec, handler: RouteHandler<Q, B>) {
      const handle: RequestHandler = async (req, res) => {
        const params = spec.params
          ? validateInput<Record<string, string>>(spec.params, { ...req.params })
          : (req.params as Record<string, string>);
        const query = spec.query ? validateInput<Q>(spec.query, { ...req.query }) : (undefined as Q);
        const body = spec.body ? validateInput<B>(spec.body, req.body) : (undefined as B);
        await handler({ params, query, body }, req, res);
      };
      Object.defineProperty(handle, SPEC, { value: spec });
      router[spec.method](spec.path, handle);
      routes.push(spec);
    },
  };
}

/** `{error: {code, message, details?}}` (docs/architecture.md §4). */
export const errorSchema = J.object({
  error: J.object({
    code: J.string().description('dotted code, e.g. VALIDATION.FAILED').required(),
    message: J.string().required(),
    details: J.object().unknown(),
  }).required(),
}).label('Error');

/** An error answer for a route's `responses`. */
export function errorResponse(description: string, code: string, message: string): ResponseSpec {
  return { description, schema: errorSchema, example: { error: { code, message } } };
}

/** The answers every authenticated route may give besides its own. */
export const COMMON_ERRORS: Record<number, ResponseSpec> = {
  401: errorResponse('missing or invalid bearer token', 'AUTH.UNAUTHORIZED', 'invalid bearer token'),
  403: errorResponse(
    'a valid token of a role that may not use this route',
    'AUTH.FORBIDDEN',
    'a runner token may not use this route (it needs a admin token)',
  ),
};

export function validationError(field: string): ResponseSpec {
  return errorResponse(
    `invalid input; the message and details name each bad field`,
    'VALIDATION.FAILED',
    `"${field}" is required`,
  );
}
