export { createLogger, createSilentLogger, createCapturingLogger } from './create-logger';
export type { Logger, LoggerOptions, CorrelationFields } from './create-logger';
export { registerSecret, forgetSecret, redact, redactString, REDACTED } from './redact';
