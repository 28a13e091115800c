export { createHttpApp, jsonBody } from './create-http-app';
export type { HttpAppOptions, ReadinessCheck } from './create-http-app';
export { bearerAuth, bearerRole, requireBearerRole, tokensEqual } from './bearer-auth';
export type { BearerRoles } from './bearer-auth';
export { startServer } from './start-server';
export type { RunningServer } from './start-server';
export { validateInput } from './validate';
export type { FieldProblem } from './validate';
export { installProcessHandlers } from './process-handlers';
export { getOrCreateCounter, getOrCreateGauge, getOrCreateHistogram, processRegistry } from './metrics';
export { runMain } from './run-main';
export type { RunningProcess } from './run-main';
export { busConnection, redisConnection, startRole, storeConnection } from './start-role';
export type { RoleConnection, RoleWorker, RunningRole, StartRoleOptions } from './start-role';
export {
  COMMON_ERRORS,
  createDocumentedRouter,
  errorResponse,
  errorSchema,
  routeSpecOf,
  validationError,
} from './documented-router';
export type {
  DocumentedRouter,
  HttpMethod,
  ResponseSpec,
  RouteHandler,
  RouteInput,
  RouteSpec,
} from './documented-router';
export {
  openApiDocument,
  openApiPath,
  operation,
  pathParameterSchema,
  requestSchema,
  responseSchema,
  serveOpenApi,
} from './openapi-document';
export type { OpenApiInfo, OpenApiMount } from './openapi-document';
