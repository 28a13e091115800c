import { Router, type Request, type Response } from 'express';
import { ApiError, type StacklinkApi } from '../adapters/stacklink-api';
import { html, type Html } from '../views/html';
import { alert, csrfField, field, layout, when } from '../views/layout';
import { apiFieldErrors, Joi, listField, validateForm, type FieldErrors } from './forms';
import {
  oauthClientInputSchema,
  type ConnectionReportAnswer,
  type IntegrationAnswer,
  type IntegrationWebhooksAnswer,
} from '@stacklink/contracts';

const url = (label: string) =>
  Joi.string()
    .trim()
    .max(2048)
    .uri({ scheme: ['http', 'https'] })
    .required()
    .label(label)
    .messages({ 'string.uriCustomScheme': '{{#label}} must be an http:// or https:// URL' });

/** The seed's fields (docs/architecture.md §4); the integration API checks them again and has the last word. */
const createForm = Joi.object({
  name: Joi.string().trim().min(1).max(100).required().label('name'),
  apiHost: url('apiHost'),
  userFacingHost: url('userFacingHost'),
  username: Joi.string().trim().min(1).max(255).required().label('username'),
  accessToken: Joi.string().trim().min(1).max(4096).required().label('accessToken'),
  labels: listField.label('labels'),
  description: Joi.string().trim().max(1000).allow('').label('description'),
}).messages({
  'any.required': '{{#label}} is required',
  'string.empty': '{{#label}} is required',
});

type CreateForm = {
  name: string;
  apiHost: string;
  userFacingHost: string;
  username: string;
  accessToken: string;
  labels?: string[];
  description?: string;
};

export function createIntegrationsRouter(deps: {
  api: StacklinkApi;
  /** Where Bitbucket sends people back: `${PUBLIC_UI_URL}/auth/bitbucket/{id}/callback`. */
  publicUiUrl: string;
  /** False when SESSION_ENCRYPTION_KEY is unset: the client can be stored, nobody can use it yet. */
  signInWithBitbucket: boolean;
}): Router {
  const router = Router();
  const get = <T>(path: string) => deps.api.call<T>('integration', 'GET', path);

  const newForm = (req: Request, res: Response, status: number, errors: FieldErrors = {}) => {
    const v = (req.body ?? {}) as Record<string, string | undefined>;
    res
      .status(status)
      .type('html')
      .send(
        layout({
          title: 'New integration',
          session: req.session,
          current: '/integrations',
          body: html`${alert(errors.form)}
            <form method="post" action="/integrations" id="integration-form" novalidate>
              ${csrfField(req.session!)}
              ${field({ name: 'name', label: 'Name', value: v.name, error: errors.name, required: true })}
              ${field({
                name: 'apiHost',
                label: 'API host URL',
                hint: 'Where Stacklink reaches Bitbucket’s REST API, e.g. https://bitbucket.internal:7990',
                value: v.apiHost,
                error: errors.apiHost,
                required: true,
              })}
              ${field({
                name: 'userFacingHost',
                label: 'User-facing host URL',
                hint: 'What people open in a browser; links in the console point there.',
                value: v.userFacingHost,
                error: errors.userFacingHost,
                required: true,
              })}
              ${field({
                name: 'username',
                label: 'Username',
                value: v.username,
                error: errors.username,
                required: true,
              })}
              ${field({
                name: 'accessToken',
                label: 'Access token',
                type: 'password',
                hint: 'An HTTP access token; stored encrypted, never shown again.',
                error: errors.accessToken,
                required: true,
                autocomplete: 'off',
              })}
              ${field({
                name: 'labels',
                label: 'Labels',
                hint: 'Comma-separated.',
                value: v.labels,
                error: errors.labels,
              })}
              ${field({
                name: 'description',
                label: 'Description',
                value: v.description,
                error: errors.description,
              })}
              <button type="submit">Create integration</button>
            </form>`,
        }),
      );
  };

  router.get('/integrations', async (req, res) => {
    const { integrations } = await get<{ integrations: IntegrationAnswer[] }>('/integrations');
    res.type('html').send(
      layout({
        title: 'Integrations',
        session: req.session,
        current: '/integrations',
        body: html`<p><a class="button" href="/integrations/new">New integration</a></p>
          ${
            integrations.length === 0
              ? html`<p>No integration yet: create one to connect a Bitbucket Data Center server.</p>`
              : html`<table>
                  <thead>
                    <tr>
                      <th scope="col">Name</th>
                      <th scope="col">Bitbucket</th>
                      <th scope="col">User</th>
                      <th scope="col">Labels</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${integrations.map(
                      (i) =>
                        html`<tr>
                          <td><a href="/integrations/${encodeURIComponent(i.id)}">${i.name}</a></td>
                          <td>${i.userFacingHost}</td>
                          <td>${i.username}</td>
                          <td>${i.labels.join(', ')}</td>
                        </tr>`,
                    )}
                  </tbody>
                </table>`
          }`,
      }),
    );
  });

  router.get('/integrations/new', (req, res) => newForm(req, res, 200));

  router.post('/integrations', async (req, res) => {
    const form = validateForm<CreateForm>(createForm, req.body);
    if (!form.ok) {
      newForm(req, res, 400, form.errors);
      return;
    }
    const { labels, description, ...rest } = form.value;
    let created: IntegrationAnswer & { webhook: { secret: string } };
    try {
      created = await deps.api.call('integration', 'POST', '/integrations', {
        ...rest,
        ...(labels && labels.length > 0 ? { labels } : {}),
        ...(description ? { description } : {}),
      });
    } catch (err) {
      if (err instanceof ApiError && err.status < 500) {
        newForm(req, res, err.status === 409 ? 409 : 400, apiFieldErrors(err));
        return;
      }
      throw err;
    }
    // The secret is shown on this answer only: it is in no URL and no later page.
    res
      .status(201)
      .type('html')
      .send(
        layout({
          title: `Integration ${created.name} created`,
          session: req.session,
          current: '/integrations',
          body: html`${secretPanel(created.webhook.endpoint, created.webhook.secret)}
            <p>
              <a class="button" href="/integrations/${encodeURIComponent(created.id)}"
                >Open the integration</a
              >
            </p>`,
        }),
      );
  });

  const showIntegration = async (
    req: Request,
    res: Response,
    extra: {
      test?: ConnectionReportAnswer;
      rotated?: { endpoint: string; secret: string; until: string };
      oauthErrors?: FieldErrors;
      notice?: string;
      status?: number;
    },
  ) => {
    const id = String(req.params.id);
    const integration = await get<IntegrationAnswer>(`/integrations/${encodeURIComponent(id)}`);
    const health = await get<IntegrationWebhooksAnswer>(
      `/integrations/${encodeURIComponent(id)}/webhooks`,
    ).catch((err: unknown) => {
      if (err instanceof ApiError) return undefined;
      throw err;
    });
    const action = (path: string, label: string, id2: string) =>
      html`<form
        method="post"
        action="/integrations/${encodeURIComponent(id)}/${path}"
        class="inline"
        id="${id2}"
      >
        ${csrfField(req.session!)}<button type="submit">${label}</button>
      </form>`;
    const redirectUrl = `${deps.publicUiUrl.replace(/\/+$/, '')}/auth/bitbucket/${encodeURIComponent(id)}/callback`;
    const oe = extra.oauthErrors ?? {};
    const posted = (extra.oauthErrors ? req.body : {}) as Record<string, string | undefined>;
    res
      .status(extra.status ?? 200)
      .type('html')
      .send(
        layout({
          title: `Integration ${integration.name}`,
          session: req.session,
          current: '/integrations',
          body: html`<dl class="facts">
              <dt>API host</dt>
              <dd>${integration.apiHost}</dd>
              <dt>User-facing host</dt>
              <dd><a href="${integration.userFacingHost}">${integration.userFacingHost}</a></dd>
              <dt>Username</dt>
              <dd>${integration.username}</dd>
              <dt>Labels</dt>
              <dd>${integration.labels.join(', ') || '—'}</dd>
              <dt>Description</dt>
              <dd>${integration.description ?? '—'}</dd>
              <dt>Webhook endpoint</dt>
              <dd><code>${integration.webhook.endpoint}</code></dd>
              ${
                integration.webhook.previousSecretValidUntil &&
                html`<dt>Previous secret valid until</dt>
                  <dd>${when(integration.webhook.previousSecretValidUntil)}</dd>`
              }
              <dt>Created</dt>
              <dd>${when(integration.createdAt)}</dd>
            </dl>
            <div class="actions">
              ${action('test', 'Test connection', 'test-connection')}
              ${action('rotate-secret', 'Rotate webhook secret', 'rotate-secret')}
              <a class="button" href="/stacks/new?integrationId=${encodeURIComponent(id)}">New stack</a>
            </div>
            ${
              extra.rotated &&
              html`${secretPanel(extra.rotated.endpoint, extra.rotated.secret)}
                <p>The previous secret stays valid until ${when(extra.rotated.until)}.</p>`
            }
            ${extra.test && testReport(extra.test)}
            <h2>Webhook health</h2>
            ${healthTable(health)}
            <section aria-labelledby="oauth-title" id="oauth-client">
              <h2 id="oauth-title">Sign in with Bitbucket</h2>
              ${extra.notice && html`<p class="notice" role="status">${extra.notice}</p>`}
              <p id="oauth-status">
                ${
                  integration.oauth?.configured
                    ? html`People can sign in with this Bitbucket (client
                        <code>${integration.oauth.clientId}</code>).`
                    : 'Not set up: only operators sign in.'
                }
                ${!deps.signInWithBitbucket && ' The console has no SESSION_ENCRYPTION_KEY, so the sign-in button is not offered yet.'}
              </p>
              <p>
                People who follow a Stacklink link from Bitbucket can sign in with their Bitbucket account and
                see the runs of the repositories they can read there. To set it up, a Bitbucket administrator:
              </p>
              <ol>
                <li>
                  opens <strong>Administration → Application links → Create link</strong> in
                  ${integration.userFacingHost};
                </li>
                <li>chooses <strong>External application</strong>, direction <strong>Incoming</strong>;</li>
                <li>
                  names it "Stacklink", enters the redirect URL
                  <code id="oauth-redirect-url">${redirectUrl}</code> and the permission
                  <strong>Repositories: Read</strong>;
                </li>
                <li>saves it and pastes its client ID and client secret below.</li>
              </ol>
              ${alert(oe.form)}
              <form
                method="post"
                action="/integrations/${encodeURIComponent(id)}/oauth-client"
                id="oauth-form"
                novalidate
              >
                ${csrfField(req.session!)}
                ${field({ name: 'clientId', label: 'Client ID', value: posted.clientId ?? integration.oauth?.clientId, error: oe.clientId, required: true })}
                ${field({ name: 'clientSecret', label: 'Client secret', type: 'password', error: oe.clientSecret, required: true, autocomplete: 'off' })}
                <button type="submit">Save the OAuth client</button>
              </form>
              ${
                integration.oauth?.configured &&
                html`<form
                  method="post"
                  action="/integrations/${encodeURIComponent(id)}/oauth-client/remove"
                  class="inline"
                  id="oauth-remove"
                >
                  ${csrfField(req.session!)}<button type="submit">Turn sign-in with Bitbucket off</button>
                </form>`
              }
            </section>`,
        }),
      );
  };

  router.get('/integrations/:id', (req, res) => showIntegration(req, res, {}));

  router.post('/integrations/:id/test', async (req, res) => {
    const test = await deps.api.call<ConnectionReportAnswer>(
      'integration',
      'POST',
      `/integrations/${encodeURIComponent(String(req.params.id))}/test`,
    );
    await showIntegration(req, res, { test });
  });

  router.post('/integrations/:id/rotate-secret', async (req, res) => {
    const rotated = await deps.api.call<{
      webhook: { endpoint: string; secret: string };
      previousSecretValidUntil: string;
    }>(
      'integration',
      'POST',
      `/integrations/${encodeURIComponent(String(req.params.id))}/webhook-secret/rotate`,
    );
    await showIntegration(req, res, {
      rotated: { ...rotated.webhook, until: rotated.previousSecretValidUntil },
    });
  });

  router.post('/integrations/:id/oauth-client', async (req, res) => {
    const form = validateForm<{ clientId: string; clientSecret: string }>(oauthClientInputSchema, req.body);
    if (!form.ok) {
      await showIntegration(req, res, { oauthErrors: form.errors, status: 400 });
      return;
    }
    try {
      await deps.api.call(
        'integration',
        'PATCH',
        `/integrations/${encodeURIComponent(String(req.params.id))}`,
        {
          oauth: form.value,
        },
      );
    } catch (err) {
      if (err instanceof ApiError && err.status === 400) {
        await showIntegration(req, res, {
          oauthErrors: apiFieldErrors(err, (p) => p.replace(/^oauth\./, '')),
          status: 400,
        });
        return;
      }
      throw err;
    }
    await showIntegration(req, res, { notice: 'The OAuth client was saved; its secret is not shown again.' });
  });

  router.post('/integrations/:id/oauth-client/remove', async (req, res) => {
    await deps.api.call(
      'integration',
      'PATCH',
      `/integrations/${encodeURIComponent(String(req.params.id))}`,
      {
        oauth: null,
      },
    );
    await showIntegration(req, res, { notice: 'Sign-in with this Bitbucket is off.' });
  });

  return router;
}

function secretPanel(endpoint: string, secret: string): Html {
  return html`<section class="secret" aria-labelledby="secret-title">
    <h2 id="secret-title">Webhook settings — shown once</h2>
    <p>
      Add a webhook to each repository in Bitbucket with this URL and secret. The secret is not shown again
      (rotate it to get a new one).
    </p>
    <dl class="facts">
      <dt>URL</dt>
      <dd><code id="webhook-endpoint">${endpoint}</code></dd>
      <dt>Secret</dt>
      <dd><code id="webhook-secret">${secret}</code></dd>
    </dl>
  </section>`;
}

function testReport(report: ConnectionReportAnswer): Html {
  return html`<section aria-labelledby="test-title" id="connection-test">
    <h2 id="test-title">Connection test: ${report.ok ? 'everything works' : 'something needs fixing'}</h2>
    ${report.serverVersion && html`<p>Bitbucket ${report.serverVersion}</p>`}
    <ul class="checks">
      ${report.checks.map(
        (c) =>
          html`<li class="${c.skipped ? 'skipped' : c.ok ? 'ok' : 'failed'}">
            <strong>${c.name}</strong> — ${c.skipped ? 'not checked' : c.ok ? 'ok' : 'failed'}: ${c.message}
          </li>`,
      )}
    </ul>
  </section>`;
}

function healthTable(health: IntegrationWebhooksAnswer | undefined): Html {
  if (health === undefined)
    return html`<p>This integration service does not report webhook health (webhooks set up by hand).</p>`;
  const rows = health.webhooks ?? [];
  return html`${health.mode && html`<p>Webhooks: ${health.mode}${health.scope && ` (per ${health.scope})`}</p>`}
  ${
    rows.length === 0
      ? html`<p>No webhook checked yet.</p>`
      : html`<table id="webhook-health">
          <thead>
            <tr>
              <th scope="col">Scope</th>
              <th scope="col">Health</th>
              <th scope="col">Detail</th>
              <th scope="col">Checked</th>
            </tr>
          </thead>
          <tbody>
            ${rows.map(
              (r) =>
                html`<tr>
                  <td>${r.scope}</td>
                  <td>${r.health}</td>
                  <td>${r.detail ?? ''}${r.lastFailure && html`<br />Last failure: ${r.lastFailure}`}</td>
                  <td>${when(r.checkedAt)}</td>
                </tr>`,
            )}
          </tbody>
        </table>`
  }`;
}
