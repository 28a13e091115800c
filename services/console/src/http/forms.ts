import { Joi } from '@stacklink/config';
import type { ApiError } from '../adapters/stacklink-api';

export type FieldErrors = Record<string, string>;

export type FormResult<T> = { ok: true; value: T } | { ok: false; errors: FieldErrors };

/**
 * A posted form checked with joi: every bad field gets its message, keyed by the form field's name, to
 * be shown next to it. Unknown fields (the `_csrf` token) are dropped; nothing is sent on when one fails.
 */
export function validateForm<T>(schema: Joi.ObjectSchema, body: unknown): FormResult<T> {
  const result = schema.validate(body ?? {}, {
    abortEarly: false,
    convert: true,
    stripUnknown: true,
    errors: { wrap: { label: false } },
  });
  if (!result.error) return { ok: true, value: result.value as T };
  const errors: FieldErrors = {};
  for (const d of result.error.details) {
    const name = String(d.path[0] ?? 'form');
    errors[name] ??= d.message;
  }
  return { ok: false, errors };
}

/**
 * The API's own 400 (`error.details.fields`), mapped onto the form's fields: the API is the last word
 * on what it accepts, and its message still names the field. `fieldOf` maps an API path
 * (`repository.slug`) to a form field (`repository`).
 */
export function apiFieldErrors(err: ApiError, fieldOf: (path: string) => string = (p) => p): FieldErrors {
  const errors: FieldErrors = {};
  for (const f of err.fields) {
    const name = fieldOf(f.field.split('.')[0] === 'body' ? f.field.slice(5) : f.field);
    errors[name] ??= f.message.replace(/^"([^"]+)"/, '$1');
  }
  if (Object.keys(errors).length === 0) errors.form = err.message;
  return errors;
}

/** A comma- or line-separated list field: `a, b` → ['a', 'b']; empty → []. */
export const listField = Joi.any()
  .custom((value: unknown, helpers) => {
    if (typeof value !== 'string') return helpers.error('string.base');
    if (value.length > 10_000) return helpers.error('string.max', { limit: 10_000 });
    return value
      .split(/[,\n]/)
      .map((v) => v.trim())
      .filter((v) => v.length > 0);
  })
  .default([]);

/** A checkbox: present (`on`) or absent. */
export const checkboxField = Joi.any()
  .custom((value: unknown) => value === 'on' || value === true)
  .default(false);

export { Joi };
