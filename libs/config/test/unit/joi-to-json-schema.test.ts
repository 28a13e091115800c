import { expect } from 'chai';
import Joi from 'joi';
import { joiToJsonSchema } from '../../src/joi-to-json-schema';

const document = (schema: Joi.Schema, allowUnknown = false) =>
  joiToJsonSchema(schema, { mode: 'document', allowUnknown });
const check = (schema: Joi.Schema) => joiToJsonSchema(schema, { mode: 'check', allowUnknown: false });

describe('joiToJsonSchema', () => {
  describe('document mode (OpenAPI)', () => {
    it('states lengths, patterns, enums, defaults, descriptions and required keys', () => {
      const schema = Joi.object({
        name: Joi.string().trim().min(1).max(100).description('a name').required(),
        branch: Joi.string().pattern(/^\S{1,255}$/),
        type: Joi.string().valid('tracked', 'proposed').default('tracked'),
        limit: Joi.number().integer().min(1).max(200).default(50),
      });
      expect(document(schema)).to.deep.equal({
        type: 'object',
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 100, description: 'a name' },
          branch: { type: 'string', minLength: 1, pattern: '^\\S{1,255}$' },
          type: { enum: ['tracked', 'proposed'], default: 'tracked' },
          limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
        },
        required: ['name'],
        additionalProperties: false,
      });
    });

    it('describes what JSON Schema cannot state by its base type, with a format where one exists', () => {
      const schema = Joi.object({
        host: Joi.string().custom((v: string) => v),
        at: Joi.string().isoDate(),
        since: Joi.date().iso(),
        labels: Joi.array().items(Joi.string()).max(50).unique(),
        patch: Joi.object({ a: Joi.string() }).min(1),
        anything: Joi.object().unknown(),
        note: Joi.string().allow(''),
      });
      const properties = document(schema, true).properties as Record<string, unknown>;
      expect(properties).to.deep.equal({
        host: { type: 'string', minLength: 1 },
        at: { type: 'string', minLength: 1, format: 'date-time' },
        since: { type: 'string', format: 'date-time' },
        labels: { type: 'array', maxItems: 50, uniqueItems: true, items: { type: 'string', minLength: 1 } },
        patch: { type: 'object', minProperties: 1, properties: { a: { type: 'string', minLength: 1 } } },
        anything: { type: 'object' },
        note: { anyOf: [{ type: 'string', minLength: 1 }, { enum: [''] }] },
      });
    });
  });

  describe('check mode (the compiled check)', () => {
    it('refuses what it cannot translate exactly, naming the path', () => {
      expect(() => check(Joi.object({ since: Joi.date() }))).to.throw(/"since": type date/);
      expect(() => check(Joi.object({ patch: Joi.object({ a: Joi.string() }).min(1) }))).to.throw(
        /"patch": object rules/,
      );
      expect(() => check(Joi.object({ host: Joi.string().custom((v: string) => v) }))).to.throw(
        /without a leaf keyword/,
      );
    });

    it('counts string lengths in UTF-16 units, as joi does', () => {
      expect(check(Joi.string().max(5))).to.deep.equal({ type: 'string', 'x-utf16-length': [1, 5] });
    });
  });
});
