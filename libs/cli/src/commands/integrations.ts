import { readFileSync } from 'node:fs';
import { print, type CommandGroup, type Values } from '../command';
import { CliError, EXIT } from '../exit-codes';
import { details, table } from '../output';
import { readSecret } from '../secret-input';
import type {
  ConnectionReportAnswer,
  IntegrationAnswer,
  IntegrationWebhooksAnswer,
} from '@stacklink/contracts';

const path = (id: string, suffix = '') => `/api/v1/integrations/${encodeURIComponent(id)}${suffix}`;

function showIntegration(i: IntegrationAnswer): string {
  return details([
    ['id', i.id],
    ['name', i.name],
    ['api host', i.apiHost],
    ['user-facing host', i.userFacingHost],
    ['username', i.username],
    ['description', i.description],
    ['labels', i.labels],
    ['created', i.createdAt],
    ['webhook endpoint', i.webhook.endpoint],
    ...(i.webhook.secret === undefined ? [] : [['webhook secret', i.webhook.secret] as [string, unknown]]),
    ...(i.webhook.previousSecretValidUntil === undefined
      ? []
      : [['previous secret valid until', i.webhook.previousSecretValidUntil] as [string, unknown]]),
    ['sign in with Bitbucket', i.oauth === undefined ? 'off' : `client ${i.oauth.clientId}`],
  ]);
}

function list(values: Values, name: string): string[] | undefined {
  const v = values[name];
  return Array.isArray(v) ? v.map(String) : undefined;
}

/** `GET /api/v1/integrations/{id}/webhooks` (docs/architecture.md §14). */
export const integrationCommands: CommandGroup = {
  name: 'integrations',
  summary: 'Bitbucket Data Center connections (list, show, create, test, rotate-secret, webhooks)',
  commands: [
    {
      name: 'list',
      summary: 'every integration',
      usage: '',
      async run(ctx) {
        const answer = await ctx.integration().request<{ integrations: IntegrationAnswer[] }>({
          path: '/api/v1/integrations',
        });
        print(ctx, answer, (a) =>
          table(a.integrations, [
            ['id', (i) => i.id],
            ['name', (i) => i.name],
            ['api host', (i) => i.apiHost],
            ['username', (i) => i.username],
            ['labels', (i) => i.labels],
          ]),
        );
      },
    },
    {
      name: 'show',
      summary: 'one integration and its webhook endpoint (never its token)',
      usage: '<id>',
      positionals: { min: 1, max: 1 },
      async run(ctx, _values, [id]) {
        print(ctx, await ctx.integration().request<IntegrationAnswer>({ path: path(id!) }), showIntegration);
      },
    },
    {
      name: 'create',
      summary: 'a new integration; prints its webhook endpoint and secret (shown this once)',
      usage:
        '--name <name> --api-host <url> --username <user> --access-token-stdin [--user-facing-host <url>] [--description <text>] [--label <label>]… [--ca-file <pem>]',
      help: [
        '--access-token-stdin  read the Bitbucket access token from stdin; without it, a terminal asks for it',
        '--user-facing-host    the URL people open (default: --api-host)',
        '--ca-file             PEM file of the CA that signed the Bitbucket server certificate',
      ],
      options: {
        name: { type: 'string' },
        'api-host': { type: 'string' },
        'user-facing-host': { type: 'string' },
        username: { type: 'string' },
        'access-token-stdin': { type: 'boolean' },
        description: { type: 'string' },
        label: { type: 'string', multiple: true },
        'ca-file': { type: 'string' },
      },
      async run(ctx, values) {
        for (const required of ['name', 'api-host', 'username']) {
          if (values[required] === undefined) throw new CliError(EXIT.USAGE, `--${required} is required`);
        }
        let caCertificate: string | undefined;
        if (typeof values['ca-file'] === 'string') {
          try {
            caCertificate = readFileSync(values['ca-file'], 'utf8');
          } catch (err) {
            throw new CliError(EXIT.INVALID_INPUT, `--ca-file: ${(err as Error).message}`);
          }
        }
        const accessToken = await readSecret(ctx.terminal, 'Bitbucket access token', {
          fromStdin: values['access-token-stdin'] === true,
          flag: '--access-token-stdin',
        });
        const answer = await ctx.integration().request<IntegrationAnswer>({
          method: 'POST',
          path: '/api/v1/integrations',
          body: {
            name: values.name,
            apiHost: values['api-host'],
            userFacingHost: values['user-facing-host'] ?? values['api-host'],
            username: values.username,
            accessToken,
            ...(values.description === undefined ? {} : { description: values.description }),
            ...(list(values, 'label') === undefined ? {} : { labels: list(values, 'label') }),
            ...(caCertificate === undefined ? {} : { tls: { caCertificate } }),
          },
        });
        print(ctx, answer, showIntegration);
      },
    },
    {
      name: 'test',
      summary: 'checks reachability, credentials and permissions against Bitbucket (exit 7 when one fails)',
      usage: '<id>',
      positionals: { min: 1, max: 1 },
      async run(ctx, _values, [id]) {
        const report = await ctx
          .integration()
          .request<ConnectionReportAnswer>({ method: 'POST', path: path(id!, '/test') });
        print(ctx, report, (r) =>
          [
            `${r.ok ? 'OK' : 'FAILED'}${r.serverVersion === undefined ? '' : ` (Bitbucket ${r.serverVersion})`}`,
            table(r.checks, [
              ['check', (c) => c.name],
              ['result', (c) => (c.skipped === true ? 'skipped' : c.ok ? 'ok' : 'failed')],
              ['message', (c) => c.message],
            ]),
          ].join('\n'),
        );
        return report.ok ? EXIT.OK : EXIT.CHECK_FAILED;
      },
    },
    {
      name: 'oauth-client',
      summary:
        'sets (or with --remove, removes) the OAuth client people sign in to the console with (decision 013)',
      usage: '<id> --client-id <id> --client-secret-stdin | <id> --remove',
      help: [
        '--client-id            the client ID of the incoming application link in Bitbucket',
        '--client-secret-stdin  read its client secret from stdin; without it, a terminal asks for it',
        '--remove               turn sign in with Bitbucket off for this integration',
      ],
      positionals: { min: 1, max: 1 },
      options: {
        'client-id': { type: 'string' },
        'client-secret-stdin': { type: 'boolean' },
        remove: { type: 'boolean' },
      },
      async run(ctx, values, [id]) {
        let oauth: { clientId: string; clientSecret: string } | null = null;
        if (values.remove !== true) {
          if (typeof values['client-id'] !== 'string')
            throw new CliError(EXIT.USAGE, '--client-id is required (or --remove)');
          const clientSecret = await readSecret(ctx.terminal, 'OAuth client secret', {
            fromStdin: values['client-secret-stdin'] === true,
            flag: '--client-secret-stdin',
          });
          oauth = { clientId: values['client-id'], clientSecret };
        }
        const answer = await ctx
          .integration()
          .request<IntegrationAnswer>({ method: 'PATCH', path: path(id!), body: { oauth } });
        print(ctx, answer, showIntegration);
      },
    },
    {
      name: 'rotate-secret',
      summary: 'a new webhook secret; the previous one keeps working for the grace period',
      usage: '<id>',
      positionals: { min: 1, max: 1 },
      async run(ctx, _values, [id]) {
        const answer = await ctx.integration().request<Record<string, unknown>>({
          method: 'POST',
          path: path(id!, '/webhook-secret/rotate'),
        });
        print(ctx, answer, (a) => details(Object.entries(a)));
      },
    },
    {
      name: 'webhooks',
      summary:
        "managed webhooks: each repository's health (docs/architecture.md §14); exit 7 unless all ok or repaired",
      usage: '<id>',
      positionals: { min: 1, max: 1 },
      async run(ctx, _values, [id]) {
        const answer = await ctx
          .integration()
          .request<IntegrationWebhooksAnswer>({ path: path(id!, '/webhooks') });
        print(ctx, answer, (a) =>
          [
            `mode: ${a.mode}, scope: ${a.scope}`,
            table(a.webhooks, [
              ['scope', (w) => w.scope],
              ['health', (w) => w.health],
              ['detail', (w) => w.detail],
              ['last failure', (w) => w.lastFailure],
              ['checked', (w) => w.checkedAt],
            ]),
          ].join('\n'),
        );
        return answer.webhooks.every((w) => w.health === 'ok' || w.health === 'repaired')
          ? EXIT.OK
          : EXIT.CHECK_FAILED;
      },
    },
  ],
};
