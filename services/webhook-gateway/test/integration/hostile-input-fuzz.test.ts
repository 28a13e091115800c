import { createHmac, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { scopedWebhookSecret, sign } from '@stacklink/bitbucket';
import { ownWebhook, readBody } from '@stacklink/fixtures';
import { GatewayHarness } from './harness';

/*
 * Hostile input cannot hurt other deliveries (docs/architecture.md §12): signed bodies mutated at random
 * — huge strings, invalid UTF-8, wrong types, deep nesting, giant arrays, header-ish values, bodies
 * outside their webhook's scope — and unsigned ones, against the real gateway on RabbitMQ and Redis.
 * Not one may be a 5xx or drop the gateway's broker connection, and a normal delivery still answers 202.
 * The seed is printed; GATEWAY_FUZZ_SEED replays a run, GATEWAY_FUZZ_COUNT changes its size.
 */

const COUNT = Number(process.env.GATEWAY_FUZZ_COUNT ?? 20_000);
const CONCURRENCY = 32;
const SEED = Number(process.env.GATEWAY_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** mulberry32: small, fast, and the same sequence for the same seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BASES: { eventKey: string; body: unknown }[] = [
  {
    eventKey: 'repo:refs_changed',
    body: JSON.parse(readBody(ownWebhook('push-branch-update.json')).toString()),
  },
  { eventKey: 'pr:opened', body: JSON.parse(readBody(ownWebhook('pr-opened.json')).toString()) },
  {
    eventKey: 'pr:comment:added',
    body: JSON.parse(readBody(ownWebhook('pr-comment-added-reply.json')).toString()),
  },
];

// Malformed scopes as they could appear in a URL, percent-encoding included.
const SCOPES = ['', 'P/r/x', '%ZZ', '%00', 'a'.repeat(200), 'P%2Fr%0d%0a', '/r', 'P/', '..%2F..'];

const DEEP = '\u0000deep\u0000';
const DEEP_JSON = JSON.stringify(DEEP);

const HEADERISH = [
  'x\r\nx-injected: 1',
  '\u0000',
  'a'.repeat(300),
  '\ud800',
  'ключ',
  '${jndi:x}',
  '../../etc',
];

describe('webhook gateway — hostile input fuzz (real RabbitMQ, Redis, integration service)', function () {
  this.timeout(180_000);
  let h: GatewayHarness;

  before(async () => {
    h = new GatewayHarness();
    await h.startIntegration();
    await h.createIntegration();
    await h.startProbe();
    await h.startGateway({ WEBHOOK_BODY_LIMIT_BYTES: String(1024 * 1024) });
  });

  after(async () => {
    await h.cleanup();
  });

  it(`${COUNT} signed mutated bodies and unsigned ones at concurrency ${CONCURRENCY}: no 5xx, no dropped broker connection, and a normal push is accepted right after`, async () => {
    console.log(`      fuzz seed ${SEED} (replay with GATEWAY_FUZZ_SEED=${SEED})`);
    const random = prng(SEED);
    const int = (n: number) => Math.floor(random() * n);
    const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;

    function hostileValue(): unknown {
      switch (int(9)) {
        case 0:
          return 'x'.repeat(1000 + int(200_000)); // huge string
        case 1:
          return pick([0, -1, 1.5, 2 ** 64, true, false, null, {}, [], '']); // wrong types
        case 2:
          return DEEP; // deep nesting, written into the raw body (JSON.stringify would overflow)
        case 3:
          return Array.from({ length: 1000 + int(20_000) }, (_, i) => i); // giant array
        case 4:
          return pick(HEADERISH);
        case 5:
          return { id: 'refs/heads/' + 'a'.repeat(int(3000)), type: 'BRANCH' };
        case 6:
          return '\u{1F680}'.repeat(int(40_000));
        case 7:
          return Object.fromEntries(Array.from({ length: int(2000) }, (_, i) => [`k${i}`, i]));
        default:
          return 'y'.repeat(int(300));
      }
    }

    /** Replaces a random value somewhere in the body (or adds a key) with a hostile one. */
    function mutate(value: unknown, depth = 0): unknown {
      if (typeof value !== 'object' || value === null || depth > 6 || random() < 0.15) return hostileValue();
      if (Array.isArray(value)) {
        if (value.length === 0) return [hostileValue()];
        const copy = [...value];
        const i = int(copy.length);
        copy[i] = mutate(copy[i], depth + 1);
        return copy;
      }
      const copy = { ...(value as Record<string, unknown>) };
      const keys = Object.keys(copy);
      const key = random() < 0.1 || keys.length === 0 ? pick(HEADERISH) : pick(keys);
      copy[key] = mutate(copy[key], depth + 1);
      return copy;
    }

    /** Invalid UTF-8: stray continuation and lead bytes written into the raw body. */
    function breakUtf8(raw: Buffer): Buffer {
      const out = Buffer.from(raw);
      for (let i = 0, n = 1 + int(8); i < n; i++) out[int(out.length)] = pick([0xff, 0xfe, 0xc3, 0x80, 0xed]);
      return out;
    }

    const base = `${h.gateway!.url}/webhooks/bitbucket-dc/${h.integrationId}`;
    const statuses = new Map<number, number>();
    const fiveHundreds: string[] = [];
    let next = 0;

    async function one(): Promise<void> {
      const { eventKey, body } = pick(BASES);
      const kind = int(20);
      let json = JSON.stringify(kind < 2 ? body : mutate(body));
      if (json.includes(DEEP_JSON)) {
        const n = 100 + int(20_000);
        json = json.replace(DEEP_JSON, `${'['.repeat(n)}0${']'.repeat(n)}`);
      }
      let raw: Buffer = Buffer.from(json);
      if (kind === 2) raw = breakUtf8(raw);
      let url = base;
      let secret = h.secret;
      if (kind === 3 || kind === 4) {
        // A scoped webhook whose body lies outside (kind 3) or inside its scope.
        const scope = kind === 3 ? 'OTHER/elsewhere' : 'PRJ';
        url = `${base}?scope=${scope}`;
        secret = scopedWebhookSecret(h.secret, scope);
      }
      if (kind === 5) url = `${base}?scope=${pick(SCOPES)}`;
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'x-event-key': eventKey,
        'x-request-id': randomUUID(),
      };
      // Unsigned, or signed with a wrong secret.
      if (kind === 6) delete headers['x-hub-signature'];
      else if (kind === 7)
        headers['x-hub-signature'] = `sha256=${createHmac('sha256', 'wrong').update(raw).digest('hex')}`;
      else headers['x-hub-signature'] = sign(secret, raw);
      const res = await fetch(url, { method: 'POST', headers, body: raw });
      await res.arrayBuffer();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status >= 500) fiveHundreds.push(`${res.status} ${eventKey} kind ${kind}`);
    }

    const readyThroughout: boolean[] = [];
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < COUNT) {
          next++;
          await one();
          if (next % 1000 === 0) readyThroughout.push(h.gateway!.bus.isReady());
        }
      }),
    );
    console.log(`      statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);

    expect(fiveHundreds.slice(0, 10), `seed ${SEED}`).to.deep.equal([]);
    const lost = h.capture.lines.filter((l) =>
      /bus (connection lost|connection error|restarting|publish channel error)/.test(
        String(l.message ?? l.msg),
      ),
    );
    expect(lost, `seed ${SEED}`).to.deep.equal([]);
    expect(readyThroughout.every(Boolean), `seed ${SEED}`).to.equal(true);

    const normal = readBody(ownWebhook('push-branch-update.json'));
    const after = await h.deliver(normal, { eventKey: 'repo:refs_changed' });
    expect(after.status, `seed ${SEED}`).to.equal(202);
  });
});
