import type Joi from 'joi';
import { Joi as J, joiToJsonSchema, type JsonSchema } from '@stacklink/config';
import { COMMON_ERRORS, type DocumentedRouter, type RouteSpec } from './documented-router';

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

/** Routers mounted under one prefix (`/api/v1`). */
export interface OpenApiMount {
  prefix: string;
  routers: readonly DocumentedRouter[];
}

const TOKEN_SCHEMES: Record<string, string> = {
  admin: 'ADMIN_TOKEN, the operators’ token',
  runner: 'one of RUNNER_TOKENS: a runner reports its runs',
  internal: 'INTERNAL_TOKEN, between Stacklink services',
  gateway: 'GATEWAY_TOKEN: the webhook gateway reads webhook secrets only',
};

/** `/stacks/:id/runs` → `/stacks/{id}/runs`. */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** A request schema as the document states it: unknown keys are refused, as joi refuses them. */
export function requestSchema(schema: Joi.Schema): JsonSchema {
  return joiToJsonSchema(schema, { mode: 'document', allowUnknown: false });
}

/** An answer's schema: what we send, which clients must accept growing by new fields. */
export function responseSchema(schema: Joi.Schema): JsonSchema {
  return joiToJsonSchema(schema, { mode: 'document', allowUnknown: true });
}

/** The parameters of one place (`path` or `query`) from a joi object schema. */
function parameters(where: 'path' | 'query', schema: Joi.ObjectSchema): JsonSchema[] {
  const translated = requestSchema(schema);
  const properties = (translated.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((translated.required ?? []) as string[]);
  return Object.entries(properties).map(([name, s]) => {
    const { description, ...rest } = s;
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      schema: rest,
      ...(typeof description === 'string' ? { description } : {}),
    };
  });
}

/** The path parameters of a route: its `params` schema, or each `:name` as a non-empty string. */
export function pathParameterSchema(spec: RouteSpec): Joi.ObjectSchema {
  if (spec.params) return spec.params;
  const names = [...spec.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
  return J.object(Object.fromEntries(names.map((n) => [n, J.string().required()])));
}

export function operation(spec: RouteSpec, prefix: string): JsonSchema {
  const responses: Record<string, JsonSchema> = {};
  for (const [status, r] of Object.entries({ ...COMMON_ERRORS, ...spec.responses })) {
    responses[status] = {
      description: r.description,
      ...(r.schema === undefined
        ? {}
        : {
            content: {
              [r.contentType ?? 'application/json']: {
                schema: responseSchema(r.schema),
                ...(r.example === undefined ? {} : { example: r.example }),
              },
            },
          }),
    };
  }
  const params = [
    ...parameters('path', pathParameterSchema(spec)),
    ...(spec.query ? parameters('query', spec.query) : []),
  ];
  return {
    operationId: operationId(spec, prefix),
    summary: spec.summary,
    ...(spec.description === undefined ? {} : { description: spec.description }),
    security: spec.auth.map((role) => ({ [`${role}Token`]: [] })),
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(spec.body === undefined
      ? {}
      : {
          requestBody: {
            required:
              (spec.body.describe().flags as { presence?: string } | undefined)?.presence === 'required',
            content: {
              'application/json': {
                schema: requestSchema(spec.body),
                ...(spec.bodyExample === undefined ? {} : { example: spec.bodyExample }),
              },
            },
          },
        }),
    responses,
  };
}

function operationId(spec: RouteSpec, prefix: string): string {
  const words = `${prefix}${spec.path}`
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== '' && w !== 'api' && w !== 'v1');
  return [spec.method, ...words.map((w) => w[0]!.toUpperCase() + w.slice(1))].join('');
}

/**
 * The OpenAPI 3.1 document of the routers as mounted: every route, its parameters, body and answers
 * translated from the joi schemas that validate them (libs/config's translator, document mode).
 */
export function openApiDocument(info: OpenApiInfo, mounts: readonly OpenApiMount[]): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const roles = new Set<string>();
  for (const mount of mounts) {
    for (const router of mount.routers) {
      for (const spec of router.routes) {
        const key = `${mount.prefix}${openApiPath(spec.path)}`;
        (paths[key] ??= {})[spec.method] = operation(spec, mount.prefix);
        for (const role of spec.auth) roles.add(role);
      }
    }
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      securitySchemes: Object.fromEntries(
        [...roles].map((role) => [
          `${role}Token`,
          { type: 'http', scheme: 'bearer', description: TOKEN_SCHEMES[role] ?? `${role} token` },
        ]),
      ),
    },
  };
}

/**
 * Adds `GET <path>` serving the document to `router` (behind the router's own authentication); the
 * document is built on first request, once every router of the mounts exists.
 */
export function serveOpenApi(
  router: DocumentedRouter,
  auth: readonly string[],
  build: () => JsonSchema,
  path = '/openapi.json',
): void {
  let document: JsonSchema | undefined;
  router.route(
    {
      method: 'get',
      path,
      summary: 'This description (OpenAPI 3.1)',
      auth,
      responses: { 200: { description: 'the OpenAPI document', schema: J.object().unknown() } },
    },
    (_input, _req, res) => {
      document ??= build();
      res.json(document);
    },
  );
}
