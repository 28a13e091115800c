// The reference runner's public entry: what other packages may import (nothing starts on import).

// The schema for the system tests' role checks and configuration reference.
export { runnerConfigSchema } from './config';
