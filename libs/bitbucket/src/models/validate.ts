import { AppError } from '@stacklink/errors';
import { isBitbucketDate } from '../dates';

/**
 * A tiny structural checker: the models below check the fields we rely on and keep everything else
 * as it came (Bitbucket adds fields between versions; unknown ones are tolerated).
 */
export type Json = Record<string, unknown>;
export type Parser<T> = (value: unknown, path?: string) => T;

export function invalid(path: string, expected: string, value: unknown): AppError {
  const got = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return new AppError('BITBUCKET.INVALID_PAYLOAD', `${path || '(root)'}: expected ${expected}, got ${got}`, {
    status: 400,
    details: { path: path || '(root)', expected },
  });
}

export function object(value: unknown, path: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(path, 'an object', value);
  return value as Json;
}

type Kind = 'string' | 'number' | 'boolean' | 'date' | 'object' | 'array' | 'integer';

function matches(kind: Kind, value: unknown): boolean {
  switch (kind) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'date':
      return isBitbucketDate(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
  }
}

/** Checks that `o[key]` exists and has `kind`. */
export function required(o: Json, key: string, kind: Kind, path: string): void {
  if (!matches(kind, o[key])) throw invalid(`${path}.${key}`, `a ${kind}`, o[key]);
}

/** Checks `o[key]` when present; `null` counts as absent (Bitbucket sends `"context": null`). */
export function optional(o: Json, key: string, kind: Kind, path: string): void {
  const value = o[key];
  if (value === undefined || value === null) return;
  if (!matches(kind, value)) throw invalid(`${path}.${key}`, `a ${kind}`, value);
}

/** Runs `item` over every element of the array at `o[key]` (required unless `opt`). */
export function each(o: Json, key: string, item: Parser<unknown>, path: string, opt = false): void {
  const value = o[key];
  if ((value === undefined || value === null) && opt) return;
  if (!Array.isArray(value)) throw invalid(`${path}.${key}`, 'an array', value);
  value.forEach((v, i) => item(v, `${path}.${key}[${i}]`));
}

export function nested(o: Json, key: string, item: Parser<unknown>, path: string, opt = false): void {
  const value = o[key];
  if ((value === undefined || value === null) && opt) return;
  item(value, `${path}.${key}`);
}

export function oneOf<T extends string>(o: Json, key: string, allowed: readonly T[], path: string): void {
  const value = o[key];
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalid(`${path}.${key}`, `one of ${allowed.join(', ')}`, value);
  }
}
