// The reference runner's public entry: what other packages may import (nothing starts on import).

// The schema for the system tests' role checks and configuration reference.
export { runnerConfigSchema } from './config';
// The queue it consumes and scales on, for the deployment-consistency checks.
export { RUNS_READY_QUEUE } from './contract';
