import type { WebhookSettings } from '@stacklink/contracts';
import { AppError } from '@stacklink/errors';
import { announceChange } from './announce-change';
import { toIntegrationView, type IntegrationView } from './integration-view';
import { modifyIntegration } from './modify-integration';
import type { IntegrationDeps, IntegrationRecord } from './ports';

/**
 * PATCH: the name stays; everything else may change, the access token may be replaced (and must be,
 * when the API host changes).
 */
export interface UpdateIntegrationInput {
  /** Accepted only when unchanged. */
  name?: string;
  apiHost?: string;
  userFacingHost?: string;
  username?: string;
  accessToken?: string;
  /** null removes the description. */
  description?: string | null;
  labels?: string[];
  /** Replaces the TLS settings; `{}` removes the CA certificate. */
  tls?: { caCertificate?: string };
  /**
   * Managed or manual webhooks. Manual → managed adopts a hook that already points at us; managed →
   * manual leaves the hooks in Bitbucket where they are (docs/architecture.md §14).
   */
  webhooks?: WebhookSettings;
  /** Replaces the sign-in OAuth client; null removes it. */
  oauth?: { clientId: string; clientSecret: string } | null;
}

export function createUpdateIntegration(
  deps: IntegrationDeps,
): (id: string, input: UpdateIntegrationInput) => Promise<IntegrationView> {
  return async (id, input) => {
    if (input.accessToken !== undefined) deps.registerSecret(input.accessToken);
    if (input.oauth) deps.registerSecret(input.oauth.clientSecret);
    const { record } = await modifyIntegration(deps, id, (current) => {
      if (input.name !== undefined && input.name !== current.name) {
        const message = '"name" cannot be changed; create a new integration to use another name';
        throw new AppError('VALIDATION.FAILED', message, {
          status: 400,
          details: { fields: [{ field: 'name', message }] },
        });
      }
      // The stored token goes only to the host it was given for: otherwise a PATCH of apiHost alone would
      // send it, as a bearer token, to whatever host the request names.
      if (
        input.apiHost !== undefined &&
        input.apiHost !== current.apiHost &&
        input.accessToken === undefined
      ) {
        const message =
          '"accessToken" is required when "apiHost" changes; the stored token is never sent to another host';
        throw new AppError('VALIDATION.FAILED', message, {
          status: 400,
          details: { fields: [{ field: 'accessToken', message }] },
        });
      }
      const next: IntegrationRecord = {
        ...current,
        secrets: { ...current.secrets },
        labels: input.labels ?? current.labels,
        tls: input.tls === undefined ? current.tls : pickTls(input.tls),
      };
      if (input.apiHost !== undefined) next.apiHost = input.apiHost;
      if (input.userFacingHost !== undefined) next.userFacingHost = input.userFacingHost;
      if (input.username !== undefined) next.username = input.username;
      if (input.webhooks !== undefined) next.webhooks = { ...input.webhooks };
      if (input.description === null) delete next.description;
      else if (input.description !== undefined) next.description = input.description;
      if (input.accessToken !== undefined) {
        next.secrets.accessToken = deps.cipher.encrypt(input.accessToken, {
          recordId: id,
          field: 'accessToken',
        });
      }
      if (input.oauth === null) {
        delete next.oauth;
        delete next.secrets.oauthClientSecret;
      } else if (input.oauth !== undefined) {
        next.oauth = { clientId: input.oauth.clientId };
        next.secrets.oauthClientSecret = deps.cipher.encrypt(input.oauth.clientSecret, {
          recordId: id,
          field: 'oauthClientSecret',
        });
      }
      return { record: next, result: undefined };
    });
    deps.logger.info('integration updated', {
      integrationId: id,
      fields: Object.keys(input),
    });
    await announceChange(deps, 'integration.updated', id);
    return toIntegrationView(record, deps.publicWebhookBaseUrl, deps.clock.now());
  };
}

function pickTls(tls: { caCertificate?: string }): { caCertificate?: string } {
  return tls.caCertificate === undefined ? {} : { caCertificate: tls.caCertificate };
}
