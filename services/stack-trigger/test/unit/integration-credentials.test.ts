import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { isAppError } from '@stacklink/errors';
import { createIntegrationCredentials } from '../../src/adapters/integration-credentials';

const TOKEN = 'internal-token-0123456789';

describe('integration credentials from the internal API', () => {
  let server: Server;
  let url: string;
  let calls: string[];

  beforeEach(async () => {
    calls = [];
    server = createServer((req, res) => {
      calls.push(req.url ?? '');
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return void res.writeHead(401).end();
      if (req.url === '/internal/v1/integrations/int-1/credentials') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(
          JSON.stringify({ apiHost: 'https://bb.example', username: 'bot', accessToken: 'tok-1', tls: {} }),
        );
      }
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end('{"error":{"code":"INTEGRATION.NOT_FOUND"}}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('asks once for concurrent lookups of one integration and reuses the answer until it expires', async () => {
    let now = 0;
    const source = createIntegrationCredentials({
      integrationUrl: url,
      internalToken: TOKEN,
      ttlMs: 1000,
      now: () => now,
    });
    const answers = await Promise.all([source.get('int-1'), source.get('int-1'), source.get('int-1')]);
    expect(answers.map((a) => a.accessToken)).to.deep.equal(['tok-1', 'tok-1', 'tok-1']);
    await source.get('int-1');
    expect(calls).to.have.length(1);
    now = 1001;
    await source.get('int-1');
    expect(calls).to.have.length(2);
  });

  it('fails an unknown integration as not retryable and an unreachable service as retryable', async () => {
    const source = createIntegrationCredentials({ integrationUrl: url, internalToken: TOKEN });
    const unknown = await source.get('int-404').catch((err: unknown) => err);
    expect(isAppError(unknown) && unknown.code === 'INTEGRATION.NOT_FOUND' && !unknown.retryable).to.be.true;
    const down = createIntegrationCredentials({ integrationUrl: 'http://127.0.0.1:9', internalToken: TOKEN });
    const unreachable = await down.get('int-1').catch((err: unknown) => err);
    expect(isAppError(unreachable) && unreachable.code === 'INTEGRATION.UNAVAILABLE' && unreachable.retryable)
      .to.be.true;
  });
});
