import Ajv, { _, type KeywordCxt, type ValidateFunction } from 'ajv';
import Joi from 'joi';

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

type Description = Record<string, unknown> & {
  type: string;
  flags?: Record<string, unknown>;
  allow?: unknown[];
  rules?: { name: string; args?: Record<string, unknown> }[];
};

type JsonSchema = Record<string, unknown>;

export interface CompileCheckOptions {
  /** Mirrors joi's `allowUnknown`: unknown keys are accepted in every object. */
  allowUnknown: boolean;
}

/** True when joi would accept `value` unchanged under `convert: false`; false means "ask joi". */
export type CompiledCheck = (value: unknown) => boolean;

const JOI_LEAF = 'x-joi-leaf';
/** `[min, max?]` string length in UTF-16 units (`.length`), as joi counts it. */
const UTF16_LENGTH = 'x-utf16-length';
const KNOWN_DESCRIPTION_KEYS = new Set([
  'type',
  'flags',
  'allow',
  'rules',
  'keys',
  'items',
  'matches',
  'whens',
  'dependencies',
]);
const KNOWN_FLAGS = new Set(['presence', 'only', 'label', 'description']);
const NATIVE_STRING_RULES = new Set(['min', 'max', 'pattern']);
const NATIVE_NUMBER_RULES = new Set(['integer', 'min', 'max']);

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

class Translator {
  /** Joi leaves the compiled check hands back to joi, by index (the keyword's value). */
  readonly leaves: JoiLeaf[] = [];

  constructor(private readonly options: CompileCheckOptions) {}

  schema(d: Description, path: string): JsonSchema {
    for (const key of Object.keys(d)) {
      if (!KNOWN_DESCRIPTION_KEYS.has(key)) unsupported(path, `"${key}"`);
    }
    for (const flag of Object.keys(d.flags ?? {})) {
      if (!KNOWN_FLAGS.has(flag)) unsupported(path, `flag "${flag}"`);
    }
    if (d.flags?.presence === 'forbidden') unsupported(path, 'forbidden()');
    const allow = (d.allow ?? []).filter((v) => !isOverrideMarker(v));
    if (d.flags?.only === true) {
      if (d.type !== 'any' && d.type !== 'string' && d.type !== 'number' && d.type !== 'boolean') {
        unsupported(path, `valid() on ${d.type}`);
      }
      if (d.rules !== undefined) unsupported(path, 'valid() with rules');
      return { enum: allow };
    }
    const base = this.base(d, path);
    if (allow.length === 0) return base;
    // Values allowed besides the type's own (allow('') or allow(null)). The type's own schema comes
    // first: ajv stops at the first branch that passes, and a failed branch builds an error object, so
    // the usual value (a non-empty name, an object) costs no error.
    return { anyOf: [base, { enum: allow }] };
  }

  private base(d: Description, path: string): JsonSchema {
    switch (d.type) {
      case 'any':
        if (d.rules !== undefined) unsupported(path, 'rules on any()');
        return {};
      case 'boolean':
        if (d.rules !== undefined) unsupported(path, 'rules on boolean()');
        return { type: 'boolean' };
      case 'string':
        return this.leaf(d, NATIVE_STRING_RULES, () => {
          // joi refuses '' unless allowed. Lengths are in UTF-16 units, as joi counts them (JSON
          // Schema's minLength counts code points, over the whole string): our own length keyword.
          let min = 1;
          let max: number | undefined;
          const patterns: string[] = [];
          for (const rule of d.rules ?? []) {
            const limit = rule.args?.limit;
            const plainLimit = typeof limit === 'number' && rule.args?.encoding === undefined;
            if (rule.name === 'min' && plainLimit) min = Math.max(limit, 1);
            else if (rule.name === 'max' && plainLimit) max = limit;
            else if (rule.name === 'pattern') patterns.push(regexSource(rule.args, path));
            else unsupported(path, `string rule ${rule.name}`);
          }
          const s: JsonSchema = { type: 'string', [UTF16_LENGTH]: max === undefined ? [min] : [min, max] };
          if (patterns.length === 1) s.pattern = patterns[0];
          else if (patterns.length > 1) s.allOf = patterns.map((pattern) => ({ pattern }));
          return s;
        });
      case 'number':
        return this.leaf(d, NATIVE_NUMBER_RULES, () => {
          // joi refuses numbers outside the safe integer range unless told otherwise.
          const s: JsonSchema = {
            type: 'number',
            minimum: Number.MIN_SAFE_INTEGER,
            maximum: Number.MAX_SAFE_INTEGER,
          };
          for (const rule of d.rules ?? []) {
            const limit = rule.args?.limit;
            if (rule.name === 'integer') s.type = 'integer';
            else if (rule.name === 'min' && typeof limit === 'number') s.minimum = limit;
            else if (rule.name === 'max' && typeof limit === 'number') s.maximum = limit;
            else unsupported(path, `number rule ${rule.name}`);
          }
          return s;
        });
      case 'object':
        return this.object(d, path);
      case 'array':
        return this.array(d, path);
      case 'alternatives':
        return this.alternatives(d, path);
      default:
        return unsupported(path, `type ${d.type}`);
    }
  }

  /** A string or number leaf: translated when every rule is native, otherwise checked by joi itself. */
  private leaf(d: Description, native: Set<string>, translate: () => JsonSchema): JsonSchema {
    if ((d.rules ?? []).every((r) => native.has(r.name))) return translate();
    const { allow: _allow, flags, ...rest } = d;
    const { presence: _presence, ...otherFlags } = flags ?? {};
    // The leaf without its presence and its extra allowed values, which the caller states itself.
    const leaf: Joi.Schema = (Joi.build as (description: object) => Joi.Schema)({
      ...rest,
      ...(Object.keys(otherFlags).length > 0 ? { flags: otherFlags } : {}),
    });
    this.leaves.push({ schema: leaf, shortcut: shortcutFor(d) });
    return { [JOI_LEAF]: this.leaves.length - 1 };
  }

  private object(d: Description, path: string): JsonSchema {
    if (d.rules !== undefined) unsupported(path, 'object rules');
    const keys = d.keys as Record<string, Description> | undefined;
    if (keys === undefined) unsupported(path, 'object() without keys');
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    const conditions: JsonSchema[] = [];
    for (const [name, child] of Object.entries(keys)) {
      const childPath = path === '' ? name : `${path}.${name}`;
      if (child.flags?.presence === 'required') required.push(name);
      const { whens, ...unconditional } = child;
      properties[name] = this.schema(unconditional, childPath);
      if (whens !== undefined) conditions.push(...this.whens(name, whens, childPath));
    }
    const s: JsonSchema = { type: 'object', properties };
    if (required.length > 0) s.required = required;
    if (!this.options.allowUnknown) s.additionalProperties = false;
    const anyOf: JsonSchema[][] = [];
    for (const dep of (d.dependencies ?? []) as { rel: string; peers: string[] }[]) {
      if (dep.rel !== 'or' || Object.keys(dep).some((k) => k !== 'rel' && k !== 'peers')) {
        unsupported(path, `dependency ${dep.rel}`);
      }
      anyOf.push(dep.peers.map((peer) => ({ required: [peer] })));
    }
    const all = [...anyOf.map((alternatives) => ({ anyOf: alternatives })), ...conditions];
    if (all.length > 0) s.allOf = all;
    return s;
  }

  /** `Joi.when('sibling', {is, then, otherwise})` on a key becomes if/then/else on its parent object. */
  private whens(name: string, whens: unknown, path: string): JsonSchema[] {
    return (whens as Record<string, unknown>[]).map((w) => {
      const ref = w.ref as Record<string, unknown> | undefined;
      const refPath = ref?.path as unknown[] | undefined;
      const plainSibling =
        ref !== undefined &&
        Object.keys(ref).every((k) => k === 'path') &&
        refPath?.length === 1 &&
        typeof refPath[0] === 'string';
      if (!plainSibling || Object.keys(w).some((k) => !['ref', 'is', 'then', 'otherwise'].includes(k))) {
        unsupported(path, 'when() other than is/then/otherwise on a sibling key');
      }
      const sibling = refPath[0] as string;
      const is = w.is as Description;
      // A branch applies on top of the key's own schema (joi concatenates them), and may make it required.
      const branch = (b: unknown): JsonSchema => {
        if (b === undefined) return {};
        const description = b as Description;
        const s: JsonSchema = { properties: { [name]: this.schema(description, path) } };
        if (description.flags?.presence === 'required') s.required = [name];
        return s;
      };
      // joi's `is` is required unless said otherwise: a missing sibling takes the otherwise branch.
      const condition: JsonSchema = { properties: { [sibling]: this.schema(is, path) } };
      if (is.flags?.presence === 'required') condition.required = [sibling];
      return { if: condition, then: branch(w.then), else: branch(w.otherwise) };
    });
  }

  private array(d: Description, path: string): JsonSchema {
    const s: JsonSchema = { type: 'array' };
    for (const rule of d.rules ?? []) {
      const limit = rule.args?.limit;
      if (rule.name === 'min' && typeof limit === 'number') s.minItems = limit;
      else if (rule.name === 'max' && typeof limit === 'number') s.maxItems = limit;
      else unsupported(path, `array rule ${rule.name}`);
    }
    const items = (d.items ?? []) as Description[];
    if (items.length === 1) s.items = this.schema(items[0]!, `${path}[]`);
    else if (items.length > 1) s.items = { anyOf: items.map((i) => this.schema(i, `${path}[]`)) };
    return s;
  }

  private alternatives(d: Description, path: string): JsonSchema {
    if (d.rules !== undefined) unsupported(path, 'alternatives rules');
    const matches = (d.matches ?? []) as Record<string, unknown>[];
    return {
      anyOf: matches.map((m) => {
        if (Object.keys(m).some((k) => k !== 'schema')) unsupported(path, 'conditional alternatives');
        return this.schema(m.schema as Description, path);
      }),
    };
  }
}

function isOverrideMarker(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { override?: unknown }).override === true;
}

function regexSource(args: Record<string, unknown> | undefined, path: string): string {
  const options = (args?.options ?? {}) as Record<string, unknown>;
  if (options.invert === true) unsupported(path, 'inverted pattern');
  const match = /^\/(.*)\/([a-z]*)$/s.exec(String(args?.regex));
  if (match === null || match[2] !== '') unsupported(path, `pattern ${String(args?.regex)}`);
  return match[1]!;
}

function unsupported(path: string, what: string): never {
  throw new Error(`compiled check: joi construct not translated at "${path || '(root)'}": ${what}`);
}

/**
 * The JSON Schema the compiled check runs, with `x-joi-leaf` marking leaves joi checks itself and
 * `x-utf16-length` the string lengths (in UTF-16 units).
 */
export function toJsonSchema(schema: Joi.Schema, options: CompileCheckOptions): JsonSchema {
  return new Translator(options).schema(schema.describe() as Description, '');
}

/**
 * Compiles a joi schema into a fast check (see the note at the top). Throws when the schema uses a
 * construct the translator does not know, so that can never make the check more lenient than joi.
 */
export function compileCheck(schema: Joi.Schema, options: CompileCheckOptions): CompiledCheck {
  const translator = new Translator(options);
  const jsonSchema = translator.schema(schema.describe() as Description, '');
  const leaves = translator.leaves;
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
