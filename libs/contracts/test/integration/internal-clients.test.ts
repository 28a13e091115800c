import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { isAppError } from '@stacklink/errors';
import { redactString } from '@stacklink/logger';
import { createIntegrationApiClient, createStackTriggerApiClient } from '../../src';

const TOKEN = 'internal-token-0123456789';

type Route = (req: IncomingMessage, res: ServerResponse, body: string) => void;

async function serve(route: Route): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return void res.writeHead(401).end();
      route(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const json = (res: ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

async function failure(
  promise: Promise<unknown>,
): Promise<{ code: string; status?: number; retryable: boolean }> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isAppError(err)) throw new Error(`expected an AppError, got ${String(err)}`);
  return {
    code: err.code,
    ...(err.status === undefined ? {} : { status: err.status }),
    retryable: err.retryable,
  };
}

describe('the internal API clients', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  describe('of the integration service', () => {
    it('reads webhook secrets, redacts them, and answers undefined for an unknown integration', async () => {
      const secret = 'whsec-0123456789abcdef-contracts';
      let url: string;
      ({ url, server } = await serve((req, res) =>
        req.url === '/internal/v1/integrations/int-1/webhook-secrets'
          ? json(res, 200, { secrets: [{ value: secret }] })
          : json(res, 404, { error: { code: 'INTEGRATION.NOT_FOUND', message: 'no' } }),
      ));
      const client = createIntegrationApiClient({ baseUrl: `${url}/`, internalToken: TOKEN });
      expect(await client.webhookSecrets('int-1')).to.deep.equal({ secrets: [{ value: secret }] });
      expect(redactString(`got ${secret}`)).to.not.contain(secret);
      expect(await client.webhookSecrets('int-2')).to.equal(undefined);
    });

    it('fails secrets as WEBHOOK.SECRETS_UNAVAILABLE (503, retryable) on an error, a bad answer or no answer', async () => {
      let url: string;
      ({ url, server } = await serve((req, res) =>
        req.url?.includes('/int-500/') ? json(res, 500, {}) : json(res, 200, { secrets: [{ value: 42 }] }),
      ));
      const unavailable = { code: 'WEBHOOK.SECRETS_UNAVAILABLE', status: 503, retryable: true };
      const client = createIntegrationApiClient({ baseUrl: url, internalToken: TOKEN });
      expect(await failure(client.webhookSecrets('int-500'))).to.deep.equal(unavailable);
      expect(await failure(client.webhookSecrets('int-1'))).to.deep.equal(unavailable);
      const wrongToken = createIntegrationApiClient({ baseUrl: url, internalToken: 'other' });
      expect(await failure(wrongToken.webhookSecrets('int-1'))).to.deep.equal(unavailable);
      const down = createIntegrationApiClient({ baseUrl: 'http://127.0.0.1:9', internalToken: TOKEN });
      expect(await failure(down.webhookSecrets('int-1'))).to.deep.equal(unavailable);
    });

    it('reads credentials and maps 404, other errors and answers without credentials to their codes', async () => {
      let url: string;
      ({ url, server } = await serve((req, res) => {
        if (req.url === '/internal/v1/integrations/int-1/credentials')
          return json(res, 200, {
            apiHost: 'https://bb.example',
            username: 'bot',
            accessToken: 'tok-0123456789-contracts',
            tls: { caCertificate: 'PEM' },
            extra: true,
          });
        if (req.url === '/internal/v1/integrations/int-bad/credentials')
          return json(res, 200, { apiHost: 'x' });
        if (req.url === '/internal/v1/integrations/int-503/credentials') return json(res, 503, {});
        return json(res, 404, {});
      }));
      const client = createIntegrationApiClient({ baseUrl: url, internalToken: TOKEN });
      expect(await client.credentials('int-1')).to.deep.equal({
        apiHost: 'https://bb.example',
        username: 'bot',
        accessToken: 'tok-0123456789-contracts',
        tls: { caCertificate: 'PEM' },
      });
      expect(redactString('tok-0123456789-contracts')).to.not.contain('tok-0123456789-contracts');
      expect(await failure(client.credentials('int-2'))).to.deep.equal({
        code: 'INTEGRATION.NOT_FOUND',
        status: 404,
        retryable: false,
      });
      expect(await failure(client.credentials('int-503'))).to.deep.equal({
        code: 'INTEGRATION.UNAVAILABLE',
        status: 503,
        retryable: true,
      });
      expect(await failure(client.credentials('int-bad'))).to.deep.equal({
        code: 'INTEGRATION.INVALID_CREDENTIALS',
        status: 502,
        retryable: true,
      });
    });
  });

  describe('of stack-trigger', () => {
    it('lists and disables the stacks of an integration, reading id and name of each', async () => {
      const seen: string[] = [];
      let url: string;
      ({ url, server } = await serve((req, res, body) => {
        seen.push(`${req.method} ${req.url} ${body}`);
        json(res, 200, { stacks: [{ id: 'stk-1', name: 'prod', branch: 'main' }] });
      }));
      const client = createStackTriggerApiClient({ baseUrl: url, internalToken: TOKEN });
      expect(await client.stacksUsing('int 1')).to.deep.equal([{ id: 'stk-1', name: 'prod' }]);
      expect(await client.disableStacksUsing('int-1', 'deleted')).to.deep.equal([
        { id: 'stk-1', name: 'prod' },
      ]);
      expect(seen).to.deep.equal([
        'GET /internal/v1/stacks?integrationId=int%201 ',
        'POST /internal/v1/stacks/disable?integrationId=int-1 {"reason":"deleted"}',
      ]);
    });

    it('fails as STACK_TRIGGER.UNAVAILABLE (503, retryable) on an error, a bad answer or no answer', async () => {
      let url: string;
      ({ url, server } = await serve((req, res) =>
        req.url?.includes('int-500') ? json(res, 500, {}) : json(res, 200, [{ id: 'stk-1' }]),
      ));
      const unavailable = { code: 'STACK_TRIGGER.UNAVAILABLE', status: 503, retryable: true };
      const client = createStackTriggerApiClient({ baseUrl: url, internalToken: TOKEN });
      expect(await failure(client.stacksUsing('int-500'))).to.deep.equal(unavailable);
      expect(await failure(client.stacksUsing('int-1'))).to.deep.equal(unavailable);
      const down = createStackTriggerApiClient({ baseUrl: 'http://127.0.0.1:9', internalToken: TOKEN });
      expect(await failure(down.disableStacksUsing('int-1', 'x'))).to.deep.equal(unavailable);
    });
  });
});
