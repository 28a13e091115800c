import { isDeepStrictEqual } from 'node:util';
import Ajv2020 from 'ajv/dist/2020';
import { openApiPath, operation, routeSpecOf, type RouteSpec } from '@stacklink/http';

/** A route the app serves: `GET /api/v1/stacks/{id}`, with the spec it was registered with, if any. */
interface ServedRoute {
  method: string;
  path: string;
  prefix: string;
  spec: RouteSpec | undefined;
}

interface Layer {
  route?: { path: unknown; methods: Record<string, boolean>; stack: { handle: unknown }[] };
  handle?: { stack?: Layer[] };
  rawPath?: unknown;
}

/** Walks express's (router 2.x) layers: routes, and routers mounted under a string path. */
function servedRoutes(stack: readonly Layer[], prefix: string, out: ServedRoute[]): ServedRoute[] {
  for (const layer of stack) {
    if (layer.route !== undefined) {
      const routePath = String(layer.route.path);
      const spec = layer.route.stack.map((l) => routeSpecOf(l.handle)).find((s) => s !== undefined);
      for (const [method, on] of Object.entries(layer.route.methods)) {
        if (on && method !== '_all') {
          out.push({ method, path: `${prefix}${openApiPath(routePath)}`, prefix, spec });
        }
      }
    } else if (Array.isArray(layer.handle?.stack)) {
      const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
      servedRoutes(layer.handle.stack, `${prefix}${mount}`, out);
    }
  }
  return out;
}

/** The parts of an operation the validating schemas decide. */
function schemaParts(op: Record<string, unknown> | undefined): unknown {
  if (op === undefined) return undefined;
  return { parameters: op.parameters, requestBody: op.requestBody, responses: op.responses };
}

const HOW_TO_DECLARE =
  'declare it with createDocumentedRouter().route({method, path, summary, auth, params?, query?, body?, ' +
  'responses}, handler) from @stacklink/http (libs/http/README.md) instead of router.get/post/…';

/**
 * The problems between what `app` serves under `prefix` and the OpenAPI `document`, one line each:
 * a served route missing from the document (or registered without a spec), and a documented route
 * whose parameters, body or answers differ from what its validating joi schemas translate to. Empty
 * when they agree. `app` is an express 5 application.
 */
export function checkOpenApiCompleteness(
  app: unknown,
  document: Record<string, unknown>,
  prefix: string,
): string[] {
  const router = (app as { router?: { stack?: Layer[] } }).router;
  if (!Array.isArray(router?.stack)) throw new Error('checkOpenApiCompleteness needs an express 5 app');
  const paths = (document.paths ?? {}) as Record<string, Record<string, Record<string, unknown>>>;
  const problems: string[] = [];
  const served = servedRoutes(router.stack, '', []).filter((r) => r.path.startsWith(`${prefix}/`));
  for (const route of served) {
    const name = `${route.method.toUpperCase()} ${route.path}`;
    const documented = paths[route.path]?.[route.method];
    if (route.spec === undefined) {
      problems.push(`${name} is served but has no OpenAPI description: ${HOW_TO_DECLARE}`);
      continue;
    }
    if (documented === undefined) {
      problems.push(
        `${name} is served but missing from the document: add its DocumentedRouter to the mounts of ` +
          `openApiDocument() where the app is built`,
      );
      continue;
    }
    const expected = operation(route.spec, route.prefix);
    if (!isDeepStrictEqual(schemaParts(documented), schemaParts(expected))) {
      problems.push(
        `${name} is documented with schemas that differ from the ones validating it: build the document ` +
          `with openApiDocument() from the same routers instead of editing it`,
      );
    }
  }
  for (const [path, operations] of Object.entries(paths)) {
    for (const method of Object.keys(operations)) {
      if (!served.some((r) => r.path === path && r.method === method)) {
        problems.push(`${method.toUpperCase()} ${path} is documented but not served`);
      }
    }
  }
  return problems;
}

/** Validates an OpenAPI 3.1 document with @seriousme/openapi-schema-validator; the errors, or []. */
export async function validateOpenApiDocument(document: Record<string, unknown>): Promise<string[]> {
  // An ES module: loaded with import(), which the CommonJS output keeps as it is.
  const { Validator } = await import('@seriousme/openapi-schema-validator');
  const result = await new Validator().validate(structuredClone(document));
  if (result.valid) return [];
  return typeof result.errors === 'string'
    ? [result.errors]
    : (result.errors ?? []).map(
        (e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
      );
}

/**
 * Whether an answer the API really gave fits what its document says of that route and status: [] or
 * the mismatches, so a documented answer schema cannot quietly differ from what the handler sends.
 */
export function answerProblems(
  document: Record<string, unknown>,
  route: { method: string; path: string; status: number },
  body: unknown,
): string[] {
  const paths = (document.paths ?? {}) as Record<string, Record<string, Record<string, unknown>>>;
  const responses = paths[route.path]?.[route.method.toLowerCase()]?.responses as
    Record<string, { content?: Record<string, { schema?: object }> }> | undefined;
  const schema = responses?.[String(route.status)]?.content?.['application/json']?.schema;
  const name = `${route.method.toUpperCase()} ${route.path} ${route.status}`;
  if (schema === undefined) return [`${name} is not documented with a JSON answer`];
  // Formats (date-time, uri, uuid) are documentation here; the shape is what is checked.
  const validate = new Ajv2020({ strict: false, validateFormats: false, allErrors: true }).compile(schema);
  if (validate(body)) return [];
  return (validate.errors ?? []).map((e) => `${name}: ${e.instancePath || '/'} ${e.message ?? ''}`);
}
