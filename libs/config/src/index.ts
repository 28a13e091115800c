export { loadConfig, describeConfigError } from './load-config';
export type { Env } from './load-config';
export { sharedVariables, validators } from './shared-variables';
export { default as Joi } from 'joi';
export { joiToJsonSchema, UTF16_LENGTH } from './joi-to-json-schema';
export type { Description as JoiDescription, JoiToJsonSchemaOptions, JsonSchema } from './joi-to-json-schema';
