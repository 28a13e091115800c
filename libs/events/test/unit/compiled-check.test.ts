import { expect } from 'chai';
import Joi from 'joi';
import { findPublicCorpora, ownCorpus, readJson } from '@stacklink/fixtures';
import {
  EVENT_SCHEMAS,
  EVENT_TYPES,
  type EventType,
  eventTypeForKey,
  normalize,
  payloadSchemaFor,
} from '../../src';
import { compileCheck, LEAF_SHORTCUTS } from '../../src/compiled-check';

/*
 * The compiled check is only safe if it never accepts what joi refuses. These tests hold it to a
 * stronger bar: on every fixture and on thousands of mutations of them (each field removed, replaced
 * by values of every JSON type and by edge values, unknown keys added), it answers exactly as joi does
 * under `convert: false`.
 */

const EDGE_VALUES: unknown[] = [
  null,
  '',
  'x',
  ' ',
  'OPEN',
  'open',
  'created',
  'deleted',
  '0'.repeat(40),
  'A'.repeat(40),
  'a'.repeat(64),
  'refs/heads/main',
  '2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d',
  '2030-01-01T00:00:00.000Z',
  '2030-01-01T00:00:00Z',
  '2017-09-19T11:41:51+0000',
  'not a date',
  '\u{1F680}'.repeat(150), // 150 code points, 300 UTF-16 units: joi counts the units
  'x'.repeat(201),
  '12',
  0,
  -1,
  1,
  1.5,
  2 ** 60,
  -(2 ** 60),
  1506512476000,
  true,
  false,
  [],
  [null],
  {},
  { href: 'https://example.com' },
];

/** Every variant of `value` with one change: a key removed, a value replaced, an unknown key added. */
function* mutations(value: unknown): Generator<unknown> {
  if (Array.isArray(value)) {
    yield [];
    yield [...value, ...value.slice(0, 1)];
    // Items share one schema: two are enough to see it applied to each.
    for (let i = 0; i < Math.min(value.length, 2); i++) {
      for (const variant of mutations(value[i])) {
        const copy = [...value];
        copy[i] = variant;
        yield copy;
      }
    }
    return;
  }
  if (typeof value !== 'object' || value === null) {
    yield* EDGE_VALUES;
    return;
  }
  const record = value as Record<string, unknown>;
  yield { ...record, unexpectedField: 'x' };
  for (const key of Object.keys(record)) {
    const { [key]: _removed, ...rest } = record;
    yield rest;
    for (const variant of mutations(record[key])) yield { ...record, [key]: variant };
  }
}

function agree(schema: Joi.Schema, allowUnknown: boolean, values: Iterable<unknown>): number {
  const check = compileCheck(schema, { allowUnknown });
  let count = 0;
  for (const value of values) {
    const joiAccepts = schema.validate(value, { convert: false, allowUnknown }).error === undefined;
    if (check(value) !== joiAccepts) {
      expect.fail(`check says ${!joiAccepts}, joi says ${joiAccepts}, for ${JSON.stringify(value)}`);
    }
    count++;
  }
  return count;
}

/** Where each value sits and what JSON type it has: two bodies of one shape test the same things. */
function shape(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.slice(0, 2).flatMap((v) => shape(v, `${path}[]`));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => shape(v, `${path}.${k}`));
  }
  return [`${path}:${value === null ? 'null' : typeof value}`];
}

/** Whether the normalizer refuses the body (hand-edited public samples; our own `rejected-*` bodies). */
function isRejected(eventKey: string, body: unknown): boolean {
  try {
    normalize({ eventKey, deliveryId: 'd', integrationId: 'int-1', receivedAt: new Date(0), body });
    return false;
  } catch {
    return true;
  }
}

/**
 * Every supported fixture, one per distinct (event type, shape): our own, and the public corpora's when
 * they are there (more shapes, the same assertions).
 */
function fixtureDeliveries(): {
  file: string;
  eventKey: string;
  type: EventType;
  body: unknown;
  rejected: boolean;
}[] {
  const fixtures = [ownCorpus(), ...findPublicCorpora().found.values()].flatMap((c) => c.webhooks);
  const seen = new Set<string>();
  return fixtures.flatMap(({ file, eventKey, ...fixture }) => {
    const type = eventTypeForKey(eventKey);
    if (type === undefined) return [];
    const body = readJson(fixture);
    const rejected = isRejected(eventKey, body);
    const signature = `${type} ${shape(body).sort().join(' ')}`;
    if (seen.has(signature)) return [];
    seen.add(signature);
    return [{ file, eventKey, type, body, rejected }];
  });
}

describe('compiled check', () => {
  const deliveries = fixtureDeliveries();

  it('covers fixtures of every event type', () => {
    expect(new Set(deliveries.map((d) => d.type))).to.have.all.keys(...EVENT_TYPES);
  });

  it('answers as joi does for every payload schema, on every fixture and its mutations', function () {
    this.timeout(60000);
    let checked = 0;
    for (const d of deliveries) {
      checked += agree(payloadSchemaFor(d.type), true, [d.body, ...mutations(d.body)]);
    }
    // Enough variants that a translation slip on any field type would show.
    expect(checked).to.be.greaterThan(50000);
  });

  it('answers as joi does for every event schema, producer and consumer, on every event and its mutations', function () {
    this.timeout(60000);
    let checked = 0;
    // Only bodies the normalizer accepts have an event; the rejected ones served the payload check above.
    for (const d of deliveries.filter((x) => !x.rejected)) {
      const result = normalize({
        eventKey: d.eventKey,
        deliveryId: 'f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b',
        integrationId: 'int-1',
        receivedAt: new Date('2030-01-01T00:00:00.000Z'),
        body: d.body,
      });
      if (result.kind !== 'event') return expect.fail(`${d.file}: ${result.reason}`);
      const event = JSON.parse(JSON.stringify(result.event)) as unknown;
      const variants = [event, ...mutations(event)];
      checked += agree(EVENT_SCHEMAS[d.type], false, variants);
      checked += agree(EVENT_SCHEMAS[d.type], true, variants);
    }
    expect(checked).to.be.greaterThan(50000);
  });

  it('an event of one type fails the check of every other type', () => {
    const push = deliveries.find((d) => d.type === 'push')!;
    const result = normalize({ ...push, deliveryId: 'd-1', integrationId: 'int-1', receivedAt: new Date() });
    if (result.kind !== 'event') return expect.fail(result.reason);
    for (const type of EVENT_TYPES) {
      expect(compileCheck(EVENT_SCHEMAS[type], { allowUnknown: true })(result.event), type).to.equal(
        type === 'push',
      );
    }
  });

  it('checks leaves with rules JSON Schema cannot state through joi itself', () => {
    const check = compileCheck(
      Joi.object({
        id: Joi.string().guid().required(),
        at: Joi.string()
          .isoDate()
          .custom((v: string) => (v.startsWith('2') ? v : undefined)),
        // With conversion joi would trim; the check answers for the value as it is.
        name: Joi.string().trim(),
      }),
      { allowUnknown: false },
    );

    expect(check({ id: '2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d', at: '2030-01-01T00:00:00Z' })).to.equal(true);
    expect(check({ id: 'not-a-guid' })).to.equal(false);
    expect(check({ id: '2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d', at: 'yesterday' })).to.equal(false);
    expect(check({ id: '2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d', name: 'x' })).to.equal(true);
    expect(check({ id: '2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d', name: ' x' })).to.equal(false);
  });

  it('answers leaves of the usual form without joi, and only ever accepts what joi accepts', () => {
    // A small deterministic generator: the same strings on every run.
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const pick = (chars: string, length: number) =>
      Array.from({ length }, () => chars[random(chars.length)]).join('');
    const pad = (n: number, width = 2) => String(n).padStart(width, '0');
    const generators: Record<string, () => string> = {
      guid: () => [8, 4, 4, 4, 12].map((n) => pick('0123456789abcdef', n)).join('-'),
      isoDate: () =>
        `${pad(random(10000), 4)}-${pad(1 + random(12))}-${pad(1 + random(31))}T${pad(random(24))}:${pad(random(60))}:${pad(random(60))}` +
        ['', `.${pick('0123456789', 1 + random(3))}`][random(2)]! +
        ['Z', `+${pad(random(24))}:${pad(random(60))}`, `-${pad(random(24))}${pad(random(60))}`][random(3)]!,
      uri: () =>
        `${['http', 'https'][random(2)]!}://${pick('abcXYZ019.-', 1 + random(30))}` +
        ['', `:${pick('0123456789', 1 + random(5))}`][random(2)]! +
        Array.from({ length: random(5) }, () => `/${pick("aZ9._~!$&'()*+,;=:@%-", random(12))}`).join(''),
    };
    for (const [rule, shortcut] of Object.entries(LEAF_SHORTCUTS)) {
      const schema = Joi.string()[rule as 'guid' | 'isoDate' | 'uri']();
      let taken = 0;
      for (let i = 0; i < 3000; i++) {
        const value = generators[rule]!();
        if (!shortcut(value)) continue;
        taken++;
        expect(schema.validate(value, { convert: false }).error, `${rule}: ${value}`).to.equal(undefined);
      }
      expect(taken, rule).to.be.greaterThan(2000);
    }
  });

  it('counts string lengths in UTF-16 units at both bounds, and keeps the values allow() adds', () => {
    const schema = Joi.object({
      bounded: Joi.string().min(3).max(5),
      named: Joi.string().allow(''),
      link: Joi.object({ href: Joi.string() }).allow(null),
    });
    const rocket = '\u{1F680}'; // one code point, two UTF-16 units
    const values = [
      ...['xx', 'xxx', 'xxxxx', 'xxxxxx', rocket, `${rocket}x`, rocket.repeat(2), rocket.repeat(3)].map(
        (bounded) => ({ bounded }),
      ),
      ...['', 'x', null, 1].map((named) => ({ named })),
      ...[null, { href: 'x' }, { href: '' }, 'x'].map((link) => ({ link })),
    ];

    expect(agree(schema, false, values)).to.equal(values.length);
    const check = compileCheck(schema, { allowUnknown: false });
    // Three code points but six units: over the maximum for joi, so for the check.
    expect(check({ bounded: rocket.repeat(3) })).to.equal(false);
    expect(check({ bounded: `${rocket}x` })).to.equal(true);
    expect(check({ named: '' })).to.equal(true);
    expect(check({ link: null })).to.equal(true);
  });

  it('states a when() on a sibling key, including a branch that makes the key required', () => {
    const check = compileCheck(
      Joi.object({
        a: Joi.string().when('b', { is: 1, then: Joi.required(), otherwise: Joi.valid('y') }),
        b: Joi.number(),
      }),
      { allowUnknown: false },
    );

    expect(check({ b: 1 })).to.equal(false);
    expect(check({ b: 1, a: 'x' })).to.equal(true);
    expect(check({ b: 2 })).to.equal(true);
    expect(check({ b: 2, a: 'x' })).to.equal(false);
    expect(check({ a: 'y' })).to.equal(true);
  });

  it('refuses, when built, every joi construct it does not translate, naming where', () => {
    const untranslated: [string, Joi.Schema, RegExp][] = [
      ['unknown()', Joi.object({ a: Joi.object({}).unknown() }), /"a": flag "unknown"/],
      ['pattern keys', Joi.object().pattern(/x/, Joi.string()), /"\(root\)": "patterns"/],
      ['unique', Joi.object({ a: Joi.array().unique() }), /"a": array rule unique/],
      ['insensitive', Joi.object({ a: Joi.string().valid('A').insensitive() }), /"a": flag "insensitive"/],
      ['forbidden', Joi.object({ a: Joi.string().forbidden() }), /"a": forbidden\(\)/],
      ['default', Joi.object({ a: Joi.string().default('x') }), /"a": flag "default"/],
      ['xor', Joi.object({ a: Joi.string(), b: Joi.string() }).xor('a', 'b'), /dependency xor/],
      ['date type', Joi.object({ a: Joi.date() }), /"a": type date/],
      ['regex flags', Joi.object({ a: Joi.string().pattern(/x/i) }), /"a": pattern \/x\/i/],
      ['invert', Joi.object({ a: Joi.string().pattern(/x/, { invert: true }) }), /inverted pattern/],
      [
        'when on another key',
        Joi.object({ a: Joi.string().when('/b', { is: 1, then: Joi.required() }) }),
        /when\(\)/,
      ],
    ];
    for (const [label, schema, message] of untranslated) {
      expect(() => compileCheck(schema, { allowUnknown: false }), label).to.throw(message);
    }
  });
});
