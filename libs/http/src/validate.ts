import type Joi from 'joi';
import { AppError } from '@stacklink/errors';

export interface FieldProblem {
  field: string;
  message: string;
}

/**
 * Validates input against a joi schema; on failure throws a 400 AppError whose message and details
 * name every offending field (docs/architecture.md §4: a validation error names each bad field).
 */
export function validateInput<T>(schema: Joi.Schema, value: unknown, code = 'VALIDATION.FAILED'): T {
  const result = schema.validate(value, { abortEarly: false, convert: true, stripUnknown: false });
  if (result.error) {
    const problems: FieldProblem[] = result.error.details.map((d) => ({
      field: d.path.join('.') || '(body)',
      message: d.message,
    }));
    throw new AppError(code, problems.map((p) => p.message).join('; '), {
      status: 400,
      details: { fields: problems },
    });
  }
  return result.value as T;
}
