import type Joi from 'joi';

/*
 * The one joi → JSON Schema translator of the project, with two modes:
 *
 * - `check` (libs/events' compiled check on the gateway's hot path): the rule that makes it safe is that
 *   the schema never accepts what joi would refuse. Every joi construct is either translated exactly,
 *   handed back to joi through `leaf` (a leaf with a rule JSON Schema cannot state, such as `guid`,
 *   `isoDate` or `custom`), or refused when the check is built — so a schema change the translator does
 *   not understand fails loudly at startup and in the tests, instead of quietly letting an event through.
 * - `document` (the OpenAPI descriptions of libs/http): the same translation written for people and
 *   client generators. What JSON Schema cannot state (a custom rule, `trim`) is described by the base
 *   type; the API still validates with joi, which stays the one author of error messages.
 */

export type JsonSchema = Record<string, unknown>;

export type Description = Record<string, unknown> & {
  type: string;
  flags?: Record<string, unknown>;
  allow?: unknown[];
  rules?: { name: string; args?: Record<string, unknown> }[];
};

export interface JoiToJsonSchemaOptions {
  mode: 'check' | 'document';
  /** Mirrors joi's `allowUnknown`: unknown keys are accepted in every object. */
  allowUnknown: boolean;
  /**
   * `check` mode: the keyword standing for a string or number leaf whose rules JSON Schema cannot
   * state (joi checks it itself). Without it such a leaf is refused.
   */
  leaf?: (description: Description) => JsonSchema;
}

/** `[min, max?]` string length in UTF-16 units (`.length`), as joi counts it (`check` mode). */
export const UTF16_LENGTH = 'x-utf16-length';

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
/** `document` mode: rules with a JSON Schema `format`. */
const STRING_FORMATS: Record<string, string> = {
  isoDate: 'date-time',
  guid: 'uuid',
  uri: 'uri',
  email: 'email',
  hostname: 'hostname',
};

class Translator {
  private readonly document: boolean;

  constructor(private readonly options: JoiToJsonSchemaOptions) {
    this.document = options.mode === 'document';
  }

  schema(d: Description, path: string): JsonSchema {
    if (!this.document) {
      for (const key of Object.keys(d)) {
        if (!KNOWN_DESCRIPTION_KEYS.has(key)) unsupported(path, `"${key}"`);
      }
      for (const flag of Object.keys(d.flags ?? {})) {
        if (!KNOWN_FLAGS.has(flag)) unsupported(path, `flag "${flag}"`);
      }
      if (d.flags?.presence === 'forbidden') unsupported(path, 'forbidden()');
    }
    const allow = (d.allow ?? []).filter((v) => !isOverrideMarker(v));
    if (d.flags?.only === true) {
      if (!this.document) {
        if (d.type !== 'any' && d.type !== 'string' && d.type !== 'number' && d.type !== 'boolean') {
          unsupported(path, `valid() on ${d.type}`);
        }
        if (d.rules !== undefined) unsupported(path, 'valid() with rules');
      }
      return this.annotate(d, { enum: allow });
    }
    const base = this.annotate(d, this.base(d, path));
    if (allow.length === 0) return base;
    // Values allowed besides the type's own (allow('') or allow(null)). The type's own schema comes
    // first: ajv stops at the first branch that passes, and a failed branch builds an error object, so
    // the usual value (a non-empty name, an object) costs no error.
    return { anyOf: [base, { enum: allow }] };
  }

  /** `document` mode: the description and default a reader needs. */
  private annotate(d: Description, s: JsonSchema): JsonSchema {
    if (!this.document) return s;
    const flags = d.flags ?? {};
    if (typeof flags.description === 'string') s.description = flags.description;
    if ('default' in flags && typeof flags.default !== 'function' && typeof flags.default !== 'object') {
      s.default = flags.default;
    }
    const examples = (d as { examples?: unknown[] }).examples;
    if (Array.isArray(examples) && examples.length > 0) s.examples = examples;
    return s;
  }

  private base(d: Description, path: string): JsonSchema {
    switch (d.type) {
      case 'any':
        if (d.rules !== undefined && !this.document) unsupported(path, 'rules on any()');
        return {};
      case 'boolean':
        if (d.rules !== undefined && !this.document) unsupported(path, 'rules on boolean()');
        return { type: 'boolean' };
      case 'date':
        if (!this.document) unsupported(path, 'type date');
        return { type: 'string', format: 'date-time' };
      case 'string':
        return this.leaf(d, NATIVE_STRING_RULES, () => this.string(d, path));
      case 'number':
        return this.leaf(d, NATIVE_NUMBER_RULES, () => this.number(d, path));
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

  private string(d: Description, path: string): JsonSchema {
    // joi refuses '' unless allowed. In `check` mode lengths are in UTF-16 units, as joi counts them
    // (JSON Schema's minLength counts code points, over the whole string): our own length keyword.
    let min = 1;
    let max: number | undefined;
    const patterns: string[] = [];
    let format: string | undefined;
    for (const rule of d.rules ?? []) {
      const limit = rule.args?.limit;
      const plainLimit = typeof limit === 'number' && rule.args?.encoding === undefined;
      if (rule.name === 'min' && plainLimit) min = Math.max(limit, 1);
      else if (rule.name === 'max' && plainLimit) max = limit;
      else if (rule.name === 'pattern') patterns.push(regexSource(rule.args, path, this.document));
      else if (!this.document) unsupported(path, `string rule ${rule.name}`);
      else format ??= STRING_FORMATS[rule.name];
    }
    const s: JsonSchema = { type: 'string' };
    if (this.document) {
      s.minLength = min;
      if (max !== undefined) s.maxLength = max;
      if (format !== undefined) s.format = format;
    } else {
      s[UTF16_LENGTH] = max === undefined ? [min] : [min, max];
    }
    if (patterns.length === 1) s.pattern = patterns[0];
    else if (patterns.length > 1) s.allOf = patterns.map((pattern) => ({ pattern }));
    return s;
  }

  private number(d: Description, path: string): JsonSchema {
    // joi refuses numbers outside the safe integer range unless told otherwise.
    const s: JsonSchema = this.document
      ? { type: 'number' }
      : { type: 'number', minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER };
    for (const rule of d.rules ?? []) {
      const limit = rule.args?.limit;
      if (rule.name === 'integer') s.type = 'integer';
      else if (rule.name === 'min' && typeof limit === 'number') s.minimum = limit;
      else if (rule.name === 'max' && typeof limit === 'number') s.maximum = limit;
      else if (!this.document) unsupported(path, `number rule ${rule.name}`);
    }
    return s;
  }

  /** A string or number leaf: translated when every rule is native, otherwise checked by joi itself. */
  private leaf(d: Description, native: Set<string>, translate: () => JsonSchema): JsonSchema {
    if (this.document || (d.rules ?? []).every((r) => native.has(r.name))) return translate();
    if (this.options.leaf === undefined) return unsupported('', `${d.type} rules without a leaf keyword`);
    return this.options.leaf(d);
  }

  private object(d: Description, path: string): JsonSchema {
    const s: JsonSchema = { type: 'object' };
    for (const rule of d.rules ?? []) {
      const limit = rule.args?.limit;
      if (this.document && rule.name === 'min' && typeof limit === 'number') s.minProperties = limit;
      else if (this.document && rule.name === 'max' && typeof limit === 'number') s.maxProperties = limit;
      else if (!this.document) unsupported(path, 'object rules');
    }
    const keys = d.keys as Record<string, Description> | undefined;
    if (keys === undefined) {
      // `Joi.object()` without keys takes any keys.
      if (this.document) return s;
      unsupported(path, 'object() without keys');
    }
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    const conditions: JsonSchema[] = [];
    for (const [name, child] of Object.entries(keys)) {
      const childPath = path === '' ? name : `${path}.${name}`;
      if (this.document && child.flags?.presence === 'forbidden') continue;
      if (child.flags?.presence === 'required') required.push(name);
      const { whens, ...unconditional } = child;
      properties[name] = this.schema(unconditional, childPath);
      if (whens !== undefined) conditions.push(...this.whens(name, whens, childPath));
    }
    s.properties = properties;
    if (required.length > 0) s.required = required;
    if (!this.options.allowUnknown && d.flags?.unknown !== true) s.additionalProperties = false;
    const anyOf: JsonSchema[][] = [];
    for (const dep of (d.dependencies ?? []) as { rel: string; peers: string[] }[]) {
      if (dep.rel !== 'or' || Object.keys(dep).some((k) => k !== 'rel' && k !== 'peers')) {
        if (this.document) continue;
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
      else if (this.document && rule.name === 'unique') s.uniqueItems = true;
      else if (!this.document) unsupported(path, `array rule ${rule.name}`);
    }
    const items = (d.items ?? []) as Description[];
    if (items.length === 1) s.items = this.schema(items[0]!, `${path}[]`);
    else if (items.length > 1) s.items = { anyOf: items.map((i) => this.schema(i, `${path}[]`)) };
    return s;
  }

  private alternatives(d: Description, path: string): JsonSchema {
    if (d.rules !== undefined && !this.document) unsupported(path, 'alternatives rules');
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

/** `document` mode also states `u`-flag patterns (ECMA-262 regular expressions, as OpenAPI 3.1 reads them). */
function regexSource(args: Record<string, unknown> | undefined, path: string, document: boolean): string {
  const options = (args?.options ?? {}) as Record<string, unknown>;
  if (options.invert === true) unsupported(path, 'inverted pattern');
  const match = /^\/(.*)\/([a-z]*)$/s.exec(String(args?.regex));
  if (match === null || (match[2] !== '' && !(document && match[2] === 'u')))
    unsupported(path, `pattern ${String(args?.regex)}`);
  return match[1]!;
}

function unsupported(path: string, what: string): never {
  throw new Error(`joi to JSON Schema: joi construct not translated at "${path || '(root)'}": ${what}`);
}

/**
 * A joi schema as JSON Schema (see the note at the top for the two modes). Throws when the schema uses
 * a construct the mode cannot translate faithfully.
 */
export function joiToJsonSchema(schema: Joi.Schema, options: JoiToJsonSchemaOptions): JsonSchema {
  return new Translator(options).schema(schema.describe() as Description, '');
}
