import type Joi from 'joi';
import { AppError } from '@stacklink/errors';

/**
 * Who is checking a message: the producer checks strictly (nothing off-schema reaches the exchange); a
 * consumer tolerates fields it does not know, so an additive change within specVersion 1 never breaks it.
 */
export type CheckMode = 'producer' | 'consumer';

/**
 * `value` checked against `schema` in `mode`, or AppError `code` (400, not retryable: a message that does
 * not conform can never succeed, so the bus dead-letters it at once) naming the first bad field.
 */
export function checkMessage<T>(
  schema: Joi.Schema,
  value: unknown,
  options: { mode: CheckMode; code: string; what: string },
): T {
  const result = schema.validate(value, {
    abortEarly: true,
    allowUnknown: options.mode === 'consumer',
    // Messages are parsed JSON: no coercion, so what a consumer reads is exactly what was sent.
    convert: false,
  });
  if (result.error) {
    throw new AppError(options.code, `not a ${options.what}: ${result.error.message}`, {
      status: 400,
      retryable: false,
      details: { mode: options.mode, fields: result.error.details.map((d) => d.path.join('.')) },
    });
  }
  return result.value as T;
}
