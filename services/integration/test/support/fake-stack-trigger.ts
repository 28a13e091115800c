import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeStackTrigger {
  url: string;
  /** integrationId → the stacks stack-trigger would report. */
  stacks: Map<string, { id: string; name: string }[]>;
  /** integrationId → the webhook health stack-trigger's reconciler would report. */
  webhooks: Map<string, Record<string, unknown>[]>;
  /** Every request seen, for asserting the token and the query. */
  requests: { method: string; path: string; authorization: string | undefined }[];
  close(): Promise<void>;
}

/**
 * Stands in for stack-trigger's `GET /internal/v1/stacks?integrationId=` and
 * `POST /internal/v1/stacks/disable?integrationId=` (docs/architecture.md §4, our own contract; the
 * two-service test in services/stack-trigger runs the real one). Answers 401 to any other token, like the
 * real one.
 */
export async function startFakeStackTrigger(internalToken: string): Promise<FakeStackTrigger> {
  const stacks = new Map<string, { id: string; name: string }[]>();
  const webhooks = new Map<string, Record<string, unknown>[]>();
  const requests: FakeStackTrigger['requests'] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    requests.push({
      method: req.method ?? 'GET',
      path: `${url.pathname}${url.search}`,
      authorization: req.headers.authorization,
    });
    res.setHeader('content-type', 'application/json');
    if (req.headers.authorization !== `Bearer ${internalToken}`) {
      res
        .writeHead(401)
        .end(JSON.stringify({ error: { code: 'AUTH.UNAUTHORIZED', message: 'invalid bearer token' } }));
      return;
    }
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /internal/v1/webhooks') {
      const id = url.searchParams.get('integrationId') ?? '';
      res.writeHead(200).end(JSON.stringify({ webhooks: webhooks.get(id) ?? [] }));
      return;
    }
    if (route !== 'GET /internal/v1/stacks' && route !== 'POST /internal/v1/stacks/disable') {
      res.writeHead(404).end(JSON.stringify({ error: { code: 'HTTP.NOT_FOUND', message: 'no route' } }));
      return;
    }
    const integrationId = url.searchParams.get('integrationId') ?? '';
    res.writeHead(200).end(JSON.stringify({ stacks: stacks.get(integrationId) ?? [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    stacks,
    webhooks,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
