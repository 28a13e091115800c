import { createHmac, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { expect } from 'chai';
import { waitFor } from '@stacklink/testing';
import { System } from '../support/system';

/*
 * docs/architecture.md §12, "hostile input cannot hurt other deliveries", against the real processes:
 * each test below reproduces a way one delivery could hurt the others on a gateway without these
 * bounds, and shows the gateway now refuses it while a normal delivery is still accepted.
 */

const MiB = 1024 * 1024;

function pushBody(options: { projectKey?: string; slug?: string } = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      eventKey: 'repo:refs_changed',
      date: '2030-01-01T00:00:00+0000',
      actor: { id: 1, name: 'alice', slug: 'alice', displayName: 'Alice' },
      repository: {
        id: 7,
        slug: options.slug ?? 'infra',
        name: 'infra',
        project: { key: options.projectKey ?? 'PRJ' },
      },
      changes: [
        {
          ref: { id: 'refs/heads/main', type: 'BRANCH' },
          refId: 'refs/heads/main',
          fromHash: 'a'.repeat(40),
          toHash: 'b'.repeat(40),
          type: 'UPDATE',
        },
      ],
    }),
  );
}

function signature(secret: string, raw: Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;
}

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function deliver(
  baseUrl: string,
  path: string,
  raw: Buffer,
  secret: string | undefined,
  eventKey = 'repo:refs_changed',
): Promise<Answer> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-event-key': eventKey,
    'x-request-id': randomUUID(),
  };
  if (secret !== undefined) headers['x-hub-signature'] = signature(secret, raw);
  const res = await fetch(`${baseUrl}${path}`, { method: 'POST', headers, body: raw });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

/**
 * Opens a raw connection, sends the request head and `sendBytes` of a body that claims `declaredBytes`,
 * and resolves with the status line the gateway answers while the rest of the body is still unsent.
 */
function unfinishedUpload(
  url: string,
  path: string,
  declaredBytes: number,
  sendBytes: number,
): { answered: Promise<string>; socket: Socket } {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.on('error', () => undefined);
  const answered = new Promise<string>((resolve) => {
    let seen = '';
    socket.on('data', (d: Buffer) => {
      seen += d.toString('latin1');
      const line = seen.split('\r\n')[0];
      if (line !== undefined && seen.includes('\r\n')) resolve(line);
    });
  });
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\n` +
      `X-Event-Key: repo:refs_changed\r\nX-Request-Id: ${randomUUID()}\r\n` +
      `X-Hub-Signature: sha256=${'0'.repeat(64)}\r\nContent-Length: ${declaredBytes}\r\n\r\n`,
  );
  socket.write(Buffer.alloc(sendBytes, 0x20));
  return { answered, socket };
}

/** A signed over-limit body sent with node:http, as Bitbucket sends it; resolves with the status or the error. */
function sendOverLimit(url: string, path: string, secret: string, chunked: boolean): Promise<string> {
  const raw = Buffer.alloc(6 * MiB, 0x20);
  raw.write('{"a":"');
  raw.write('"}', raw.length - 2);
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const req = request(
      {
        host: hostname,
        port: Number(port),
        path,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-event-key': 'repo:refs_changed',
          'x-request-id': randomUUID(),
          'x-hub-signature': signature(secret, raw),
          ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(raw.length) }),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(String(res.statusCode)));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    // In pieces, as a client on a real network would.
    const piece = 256 * 1024;
    let offset = 0;
    const writeNext = () => {
      while (offset < raw.length) {
        const ok = req.write(raw.subarray(offset, offset + piece));
        offset += piece;
        if (!ok) {
          req.once('drain', writeNext);
          return;
        }
      }
      req.end();
    };
    writeNext();
  });
}

describe('end to end: hostile deliveries cannot hurt the gateway for anyone else (§12)', function () {
  this.timeout(180_000);
  let system: System;
  let integrationId: string;
  let secret: string;
  let gatewayUrl: string;
  const route = () => `/webhooks/bitbucket-dc/${integrationId}`;

  before(async function () {
    this.timeout(90_000);
    system = await System.start({
      label: 'trust-gw',
      gateways: 1,
      triggers: 1,
      reporters: 1,
      startRunner: false,
      env: { gateway: { GATEWAY_MAX_BYTES_IN_FLIGHT: String(8 * MiB) } },
    });
    const integration = await system.createIntegration();
    integrationId = integration.id;
    secret = integration.webhook.secret;
    gatewayUrl = system.gateways[0]!.url;
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.error(system.tails());
  });

  after(async function () {
    this.timeout(60_000);
    await system?.close();
  });

  it('a signed body with a 100 KB project key is a 400 naming the field, and a normal push right after is accepted', async () => {
    const hostile = await deliver(gatewayUrl, route(), pushBody({ projectKey: 'P'.repeat(100_000) }), secret);
    expect(hostile.status).to.equal(400);
    expect(JSON.stringify(hostile.body)).to.contain('repository.project.key');

    const normal = await deliver(gatewayUrl, route(), pushBody(), secret);
    expect(normal.status).to.equal(202);
    expect((await fetch(`${gatewayUrl}/readyz`)).status).to.equal(200);
  });

  it('10,000 random integration ids are answered 404 then 429 without lookups, and evict no real secret', async () => {
    expect((await deliver(gatewayUrl, route(), pushBody(), secret)).status).to.equal(202);
    const statuses = new Map<number, number>();
    let retryAfter: string | null = null;
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < 10_000) {
          next++;
          const res = await deliver(
            gatewayUrl,
            `/webhooks/bitbucket-dc/random-${randomUUID()}`,
            pushBody(),
            secret,
          );
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status === 429) retryAfter = res.headers.get('retry-after');
        }
      }),
    );
    expect([...statuses.keys()].sort()).to.deep.equal([404, 429]);
    expect(statuses.get(404)).to.be.at.most(30); // UNKNOWN_INTEGRATION_LOOKUPS_PER_MINUTE
    expect(Number(retryAfter)).to.be.greaterThan(0);

    // The integration service goes away: the real integration's cached secret still works.
    await system.integration.stop();
    try {
      expect((await deliver(gatewayUrl, route(), pushBody(), secret)).status).to.equal(202);
    } finally {
      await system.integration.start();
    }
  });

  it('an upload to an unknown integration is answered 404 before its body is read', async () => {
    const uploads = Array.from({ length: 60 }, () =>
      unfinishedUpload(
        gatewayUrl,
        `/webhooks/bitbucket-dc/no-such-${randomUUID().slice(0, 8)}`,
        5 * MiB,
        64 * 1024,
      ),
    );
    try {
      const lines = await Promise.all(
        uploads.map((u) =>
          Promise.race([
            u.answered,
            new Promise<string>((r) => setTimeout(() => r('no answer within 5 s'), 5000).unref()),
          ]),
        ),
      );
      // Unknown ids past this source's budget are answered 429 instead, still unread.
      expect(
        lines.every((l) => /^HTTP\/1\.1 (404|429) /.test(l)),
        lines.join(', '),
      ).to.equal(true);
    } finally {
      for (const u of uploads) u.socket.destroy();
    }
  });

  it('past GATEWAY_MAX_BYTES_IN_FLIGHT, a delivery is answered 503 with Retry-After before its body is read', async () => {
    // Two unfinished 5 MiB uploads to the real integration hold 10 MiB of the 8 MiB allowed.
    const first = unfinishedUpload(gatewayUrl, route(), 5 * MiB, 1024);
    const second = unfinishedUpload(gatewayUrl, route(), 5 * MiB, 1024);
    try {
      const line = await Promise.race([
        second.answered,
        new Promise<string>((r) => setTimeout(() => r('no answer within 5 s'), 5000).unref()),
      ]);
      expect(line).to.match(/^HTTP\/1\.1 503 /);
    } finally {
      first.socket.destroy();
      second.socket.destroy();
    }
    // Released: a normal delivery is accepted again.
    await waitFor(async () => (await deliver(gatewayUrl, route(), pushBody(), secret)).status === 202, {
      timeoutMs: 10_000,
      message: 'the bytes in flight were not released',
    });
  });

  for (const chunked of [false, true]) {
    it(`a signed 6 MiB body sent ${chunked ? 'chunked' : 'with Content-Length'} receives 413, not a reset`, async () => {
      expect(await sendOverLimit(gatewayUrl, route(), secret, chunked)).to.equal('413');
    });
  }

  describe('scoped webhook URLs and derived secrets', () => {
    async function scoped(scope: string) {
      return system.call<{
        webhook: { endpoint: string; secret: string };
        previousSecretValidUntil?: string;
      }>(system.integration, 'GET', `/api/v1/integrations/${integrationId}/webhook-secret?scope=${scope}`);
    }
    const pathOf = (endpoint: string) => new URL(endpoint).pathname + new URL(endpoint).search;

    it('a repository-scoped webhook verifies with its derived secret, and refuses a body from another repository with 403', async () => {
      const { webhook } = await scoped('PRJ/infra');
      expect(webhook.endpoint).to.contain(`/webhooks/bitbucket-dc/${integrationId}?scope=PRJ/infra`);
      const path = pathOf(webhook.endpoint);

      expect((await deliver(gatewayUrl, path, pushBody(), webhook.secret)).status).to.equal(202);
      const outside = await deliver(gatewayUrl, path, pushBody({ slug: 'other' }), webhook.secret);
      expect(outside.status).to.equal(403);
      expect((outside.body.error as { code: string }).code).to.equal('WEBHOOK.SCOPE_MISMATCH');
      // The integration secret does not verify a scoped URL: the scope's own secret does.
      expect((await deliver(gatewayUrl, path, pushBody(), secret)).status).to.equal(401);
    });

    it('a project-scoped webhook accepts any repository of its project and refuses another project', async () => {
      const { webhook } = await scoped('PRJ');
      const path = pathOf(webhook.endpoint);
      expect((await deliver(gatewayUrl, path, pushBody({ slug: 'other' }), webhook.secret)).status).to.equal(
        202,
      );
      const elsewhere = await deliver(gatewayUrl, path, pushBody({ projectKey: 'OPS' }), webhook.secret);
      expect(elsewhere.status).to.equal(403);
    });

    it('a malformed scope is a 400 naming scope; without a scope the integration secret applies as before', async () => {
      const bad = await deliver(gatewayUrl, `${route()}?scope=P/r/x`, pushBody(), secret);
      expect(bad.status).to.equal(400);
      expect(JSON.stringify(bad.body)).to.contain('scope');
      expect((await deliver(gatewayUrl, route(), pushBody(), secret)).status).to.equal(202);
    });

    it('rotating the integration secret rotates scoped secrets; the previous one verifies during the grace period', async () => {
      const before = await scoped('PRJ/infra');
      await system.call(
        system.integration,
        'POST',
        `/api/v1/integrations/${integrationId}/webhook-secret/rotate`,
      );
      const after = await scoped('PRJ/infra');
      expect(after.webhook.secret).to.not.equal(before.webhook.secret);
      const path = pathOf(after.webhook.endpoint);
      // The gateway drops its cached secrets on the rotation's announcement.
      await waitFor(
        async () => (await deliver(gatewayUrl, path, pushBody(), after.webhook.secret)).status === 202,
        {
          timeoutMs: 10_000,
          message: 'the new scoped secret was not accepted',
        },
      );
      expect((await deliver(gatewayUrl, path, pushBody(), before.webhook.secret)).status).to.equal(202);
    });
  });
});
