export { loadConfig, describeConfigError } from './load-config';
export type { Env } from './load-config';
export { sharedVariables, validators } from './shared-variables';
export { default as Joi } from 'joi';
