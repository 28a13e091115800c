import { print, type CommandGroup } from '../command';
import { CliError, EXIT } from '../exit-codes';
import { details, table } from '../output';
import { runTable } from './stacks';
import type { DeliveriesPageAnswer, DeliveryRecordAnswer, DeliveryViewAnswer } from '@stacklink/contracts';

const path = (id: string, suffix = '') => `/api/v1/deliveries/${encodeURIComponent(id)}${suffix}`;

function recordTable(records: readonly DeliveryRecordAnswer[]): string {
  return table(records, [
    ['received', (d) => d.receivedAt],
    ['delivery', (d) => d.deliveryId || '(none)'],
    ['integration', (d) => d.integrationId],
    ['event', (d) => d.eventKey],
    ['status', (d) => d.status],
    ['outcome', (d) => d.outcome],
    ['reason', (d) => d.reason],
  ]);
}

function showDelivery(d: DeliveryViewAnswer): string {
  const decisions = d.decisions.flatMap((decision) =>
    decision.stacks.map((s) => ({ ...s, decidedAt: decision.decidedAt })),
  );
  return [
    details([
      ['delivery', d.deliveryId],
      ['event', d.event === undefined ? undefined : `${d.event.type} ${d.event.id}`],
      [
        'repository',
        d.event === undefined ? undefined : `${d.event.repository.projectKey}/${d.event.repository.slug}`,
      ],
      ['summary', d.event?.summary],
    ]),
    '',
    recordTable(d.records),
    '',
    decisions.length === 0
      ? 'no decision recorded'
      : table(decisions, [
          ['stack', (s) => s.stackName ?? s.stackId],
          ['decision', (s) => s.outcome],
          ['reason', (s) => [s.reason, s.detail].filter((v) => v !== undefined).join(': ')],
          ['run', (s) => s.runId],
        ]),
    ...(d.runs.length === 0 ? [] : ['', runTable(d.runs)]),
  ].join('\n');
}

export const deliveryCommands: CommandGroup = {
  name: 'deliveries',
  summary: 'webhook deliveries and what they caused (list, show, redeliver)',
  commands: [
    {
      name: 'list',
      summary: 'deliveries, newest first',
      usage:
        '[--integration <id>] [--repository PROJECT/slug] [--outcome <outcome>] [--since <ISO time>] [--limit N] [--cursor <cursor>]',
      options: {
        integration: { type: 'string' },
        repository: { type: 'string' },
        outcome: { type: 'string' },
        since: { type: 'string' },
        limit: { type: 'string' },
        cursor: { type: 'string' },
      },
      async run(ctx, values) {
        let projectKey: string | undefined;
        let slug: string | undefined;
        if (typeof values.repository === 'string') {
          const match = /^([^/\s]+)(?:\/([^/\s]+))?$/.exec(values.repository);
          if (match === null)
            throw new CliError(EXIT.INVALID_INPUT, '--repository must be PROJECT or PROJECT/slug');
          [, projectKey, slug] = match;
        }
        const answer = await ctx.api().request<DeliveriesPageAnswer>({
          path: '/api/v1/deliveries',
          query: {
            integrationId: values.integration as string | undefined,
            projectKey,
            slug,
            outcome: values.outcome as string | undefined,
            since: values.since as string | undefined,
            limit: values.limit as string | undefined,
            cursor: values.cursor as string | undefined,
          },
        });
        print(ctx, answer, (a) =>
          [
            recordTable(a.deliveries),
            ...(a.nextCursor === undefined ? [] : [`more: --cursor ${a.nextCursor}`]),
          ].join('\n'),
        );
      },
    },
    {
      name: 'show',
      summary: "one delivery: the gateway's records, the event, each stack's decision, the runs",
      usage: '<delivery id>',
      positionals: { min: 1, max: 1 },
      async run(ctx, _values, [id]) {
        print(ctx, await ctx.api().request<DeliveryViewAnswer>({ path: path(id!) }), showDelivery);
      },
    },
    {
      name: 'redeliver',
      summary: 'publishes an accepted event again; creates only the runs that are missing',
      usage: '<delivery id>',
      positionals: { min: 1, max: 1 },
      async run(ctx, _values, [id]) {
        const answer = await ctx
          .api()
          .request<Record<string, unknown>>({ method: 'POST', path: path(id!, '/redeliver') });
        print(ctx, answer, (a) => details(Object.entries(a)));
      },
    },
  ],
};
