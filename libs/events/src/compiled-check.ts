import Ajv, { _, type KeywordCxt, type ValidateFunction } from 'ajv';
import Joi from 'joi';
import { joiToJsonSchema, UTF16_LENGTH, type JoiDescription as Description } from '@stacklink/config';

/*
 * A compiled yes/no check for the gateway's hot path, generated from the joi schemas: joi stays the one
 * source of truth and the one author of error messages, and ajv only answers "valid" quickly.
 *
 * The rule that makes this safe: the compiled check never accepts what joi would refuse. Every joi
 * construct is either translated exactly into JSON Schema, handed back to joi (a leaf with a rule JSON
 * Schema cannot state, such as `guid`, `isoDate` or `custom`), or refused when the check is built — so a
 * schema change the translator does not understand fails loudly at startup and in the tests, instead of
 * quietly letting an event through. A value the check refuses goes to joi, which either names the field
 * or (where joi converts a value, e.g. "12" to 12 in a payload) accepts it after all.
 */

type JsonSchema = Record<string, unknown>;

export interface CompileCheckOptions {
  /** Mirrors joi's `allowUnknown`: unknown keys are accepted in every object. */
  allowUnknown: boolean;
}

/** True when joi would accept `value` unchanged under `convert: false`; false means "ask joi". */
export type CompiledCheck = (value: unknown) => boolean;

const JOI_LEAF = 'x-joi-leaf';
/*
 * Shortcuts for the leaves joi checks itself: a value of the usual form, which joi certainly accepts,
 * is answered without calling joi; anything else still goes to joi. Each pattern accepts a subset of
 * what joi's rule accepts (the tests hold every pattern to that on generated values).
 */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// Joi's isoDate also parses the string with Date; these always parse (one check is kept all the same).
const ISO_DATE =
  /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,3})?(?:Z|[+-](?:[01]\d|2[0-3]):?[0-5]\d)$/;
// RFC 3986 as joi reads it: http(s), a host name, a port, a path of plain characters; no query.
const HTTP_URI = /^https?:\/\/[A-Za-z0-9.-]{1,255}(?::\d{1,5})?(?:\/[\w.~!$&'()*+,;=:@%-]*)*$/;

export const LEAF_SHORTCUTS: Readonly<Record<string, (value: string) => boolean>> = {
  guid: (v) => GUID.test(v),
  isoDate: (v) => ISO_DATE.test(v) && !Number.isNaN(new Date(v).getTime()),
  uri: (v) => HTTP_URI.test(v),
};

/** The shortcut for a leaf that is exactly `Joi.string().<rule>()` with no options, if there is one. */
function shortcutFor(d: Description): ((value: string) => boolean) | undefined {
  const rules = d.rules ?? [];
  const only = rules.length === 1 ? rules[0]! : undefined;
  if (d.type !== 'string' || only === undefined) return undefined;
  const options = only.args?.options as Record<string, unknown> | undefined;
  if (Object.keys(only.args ?? {}).some((k) => k !== 'options') || Object.keys(options ?? {}).length > 0) {
    return undefined;
  }
  return LEAF_SHORTCUTS[only.name];
}

interface JoiLeaf {
  schema: Joi.Schema;
  shortcut: ((value: string) => boolean) | undefined;
}

/** The translator in `check` mode; leaves it cannot state are handed to joi through `x-joi-leaf`. */
function translate(
  schema: Joi.Schema,
  options: CompileCheckOptions,
): { jsonSchema: JsonSchema; leaves: JoiLeaf[] } {
  const leaves: JoiLeaf[] = [];
  const jsonSchema = joiToJsonSchema(schema, {
    mode: 'check',
    allowUnknown: options.allowUnknown,
    leaf: (d) => {
      const { allow: _allow, flags, ...rest } = d;
      const { presence: _presence, ...otherFlags } = flags ?? {};
      // The leaf without its presence and its extra allowed values, which the caller states itself.
      const leaf: Joi.Schema = (Joi.build as (description: object) => Joi.Schema)({
        ...rest,
        ...(Object.keys(otherFlags).length > 0 ? { flags: otherFlags } : {}),
      });
      leaves.push({ schema: leaf, shortcut: shortcutFor(d) });
      return { [JOI_LEAF]: leaves.length - 1 };
    },
  });
  return { jsonSchema, leaves };
}

/**
 * The JSON Schema the compiled check runs, with `x-joi-leaf` marking leaves joi checks itself and
 * `x-utf16-length` the string lengths (in UTF-16 units).
 */
export function toJsonSchema(schema: Joi.Schema, options: CompileCheckOptions): JsonSchema {
  return translate(schema, options).jsonSchema;
}

/**
 * Compiles a joi schema into a fast check (see the note at the top). Throws when the schema uses a
 * construct the translator does not know, so that can never make the check more lenient than joi.
 */
export function compileCheck(schema: Joi.Schema, options: CompileCheckOptions): CompiledCheck {
  const { jsonSchema, leaves } = translate(schema, options);
  // Regular expressions without the u flag, as joi runs them.
  const ajv = new Ajv({ unicodeRegExp: false, strict: true, strictTypes: false, strictRequired: false });
  ajv.addKeyword({
    keyword: UTF16_LENGTH,
    type: 'string',
    schemaType: 'array',
    // Inlined into the generated check: a comparison of `.length`, no call.
    code(cxt: KeywordCxt) {
      const [min, max] = cxt.schema as [number, number?];
      cxt.fail(
        max === undefined
          ? _`${cxt.data}.length < ${min}`
          : _`${cxt.data}.length < ${min} || ${cxt.data}.length > ${max}`,
      );
    },
  });
  ajv.addKeyword({
    keyword: JOI_LEAF,
    schemaType: 'number',
    validate: (index: number, data: unknown) => {
      const leaf = leaves[index]!;
      if (leaf.shortcut !== undefined && typeof data === 'string' && leaf.shortcut(data)) return true;
      return leaf.schema.validate(data, { convert: false }).error === undefined;
    },
  });
  const validate: ValidateFunction = ajv.compile(jsonSchema);
  return (value) => validate(value);
}

/** One compiled check per key, compiled on first use (services that never see a type never pay for it). */
export function compiledChecks<K>(
  schemaFor: (key: K) => Joi.Schema,
  options: CompileCheckOptions,
): (key: K) => CompiledCheck {
  const checks = new Map<K, CompiledCheck>();
  return (key) => {
    let check = checks.get(key);
    if (check === undefined) {
      check = compileCheck(schemaFor(key), options);
      checks.set(key, check);
    }
    return check;
  };
}
