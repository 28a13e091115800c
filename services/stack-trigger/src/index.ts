// stack-trigger's public entry: what other packages may import. Side-effect free: the roles (src/roles/*.ts)
// start a process only when they are the process (`require.main === module`) and are not imported here.

// Each role's variables, for the system tests' role checks and configuration reference.
export { apiConfigSchema, reconcilerConfigSchema, reporterConfigSchema, triggerConfigSchema } from './config';
// The records the API serves, for tests that read runs and stacks.
export type { Run, Stack } from './domain/model';
// The API assembled in-process over a SQLite store, Redis run queue and bus run events: the runner's
// integration test; the store also seeds stacks for the trigger bench.
export { createApp } from './app';
export { openSqliteStore } from './adapters/sqlite/sqlite-store';
export type { Store } from './adapters/store';
export { createRedisRunQueue } from './adapters/redis-run-queue';
export { createBusRunEvents } from './adapters/bus-run-events';
// Run logs wired as the API role does (the runner's integration test streams into them).
export { createRedisRunActivity } from './adapters/redis-run-activity';
export { createEventStreams } from './http/event-stream';
// Missed-event recovery, for the recovery bench (bench/recovery): Bitbucket calls per cycle.
export { createRecoverMissedEvents } from './domain/recover-missed-events';
