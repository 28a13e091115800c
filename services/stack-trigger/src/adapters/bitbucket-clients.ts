import { createHash } from 'node:crypto';
import {
  createBitbucketClient,
  type BitbucketClient,
  type BitbucketClientOptions,
} from '@stacklink/bitbucket';
import type { IntegrationCredentialsSource } from './integration-credentials';

export type BitbucketClientSettings = Pick<
  BitbucketClientOptions,
  'timeoutMs' | 'retry' | 'pageLimit' | 'maxPages' | 'maxItems' | 'hostGate'
>;

export interface BitbucketClients {
  /** A libs/bitbucket client with the integration's current credentials and CA certificate. */
  forIntegration(integrationId: string): Promise<BitbucketClient>;
}

/**
 * One client per set of credentials, kept so its keep-alive connections are reused; a rotated token
 * or CA certificate gets a fresh client.
 */
export function createBitbucketClients(
  credentials: IntegrationCredentialsSource,
  settings: BitbucketClientSettings = {},
  maxClients = 100,
): BitbucketClients {
  const clients = new Map<string, BitbucketClient>();
  return {
    async forIntegration(integrationId) {
      const c = await credentials.get(integrationId);
      const key = createHash('sha256')
        .update(JSON.stringify([c.apiHost, c.username, c.accessToken, c.tls.caCertificate ?? '']))
        .digest('hex');
      let client = clients.get(key);
      if (client === undefined) {
        client = createBitbucketClient({
          ...settings,
          baseUrl: c.apiHost,
          token: c.accessToken,
          username: c.username,
          ...(c.tls.caCertificate === undefined ? {} : { caCertificate: c.tls.caCertificate }),
        });
        if (clients.size >= maxClients) clients.delete(clients.keys().next().value!);
        clients.set(key, client);
      }
      return client;
    },
  };
}
