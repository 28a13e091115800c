export { createHttpApp, jsonBody } from './create-http-app';
export type { HttpAppOptions, ReadinessCheck } from './create-http-app';
export { bearerAuth, tokensEqual } from './bearer-auth';
export { startServer } from './start-server';
export type { RunningServer } from './start-server';
export { validateInput } from './validate';
export type { FieldProblem } from './validate';
export { installProcessHandlers } from './process-handlers';
export { getOrCreateCounter, getOrCreateGauge, getOrCreateHistogram, processRegistry } from './metrics';
