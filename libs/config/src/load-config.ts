import Joi from 'joi';
import { AppError } from '@stacklink/errors';

export type Env = Record<string, string | undefined>;

/**
 * joi's own pattern messages quote the rejected value, and a variable's value may hold a password
 * (`STORE_URL=mongodb://user:password@…` with a typo): these name the variable and the expected form only.
 */
const VALUE_FREE_MESSAGES = {
  'string.pattern.base': '{{#label}} does not have the required form',
  'string.pattern.name': '{{#label}} must be {{#name}}',
  'string.pattern.invert.base': '{{#label}} does not have the required form',
  'string.pattern.invert.name': '{{#label}} must not be {{#name}}',
};

/**
 * Validates environment variables against a joi object schema whose keys are the variable names.
 * Every bad variable is reported at once, by name (docs/architecture.md §2); unknown variables are ignored
 * because the environment holds far more than ours. The caller supplies the typed result shape.
 */
export function loadConfig<T>(schema: Joi.ObjectSchema, env: Env = process.env): T {
  const result: Joi.ValidationResult<T> = schema.validate(env, {
    abortEarly: false,
    allowUnknown: true,
    stripUnknown: true,
    convert: true,
    messages: VALUE_FREE_MESSAGES,
  });
  const error = result.error;
  if (error) {
    const problems = error.details.map((d) => ({
      variable: d.path.join('.'),
      message: d.message.replace(/^"([^"]+)"/, '$1'),
    }));
    const names = [...new Set(problems.map((p) => p.variable))];
    throw new AppError(
      'CONFIG.INVALID',
      `invalid configuration: ${problems.map((p) => p.message).join('; ')}`,
      { details: { variables: names, problems } },
    );
  }
  return result.value;
}

/**
 * Formats a CONFIG.INVALID error for stderr at start-up; a process that cannot configure itself stops
 * with this message and exit code 1.
 */
export function describeConfigError(err: unknown): string {
  if (err instanceof AppError && err.code === 'CONFIG.INVALID') {
    const details = err.details as { problems: { variable: string; message: string }[] };
    return ['configuration error:', ...details.problems.map((p) => `  ${p.variable}: ${p.message}`)].join(
      '\n',
    );
  }
  return `configuration error: ${err instanceof Error ? err.message : String(err)}`;
}
