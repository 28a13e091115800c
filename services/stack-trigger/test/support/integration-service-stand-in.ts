import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CredentialsEntry {
  apiHost: string;
  username: string;
  accessToken: string;
}

/**
 * The integration service's internal credentials contract (docs/architecture.md §4,
 * services/integration/src/http/internal-router.ts), answered from a table: the reporter and runner
 * tests need Bitbucket credentials, not the integration service's store and encryption.
 */
export async function startCredentialsStandIn(
  internalToken: string,
  integrations: Record<string, CredentialsEntry>,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${internalToken}`) {
      return send(401, { error: { code: 'HTTP.UNAUTHORIZED', message: 'no' } });
    }
    const match = /^\/internal\/v1\/integrations\/([^/]+)\/credentials$/.exec(req.url ?? '');
    const entry = match ? integrations[decodeURIComponent(match[1]!)] : undefined;
    if (entry === undefined) return send(404, { error: { code: 'INTEGRATION.NOT_FOUND', message: 'no' } });
    send(200, { ...entry, tls: {} });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
