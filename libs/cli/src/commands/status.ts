import { print, type Command } from '../command';
import { CliError, EXIT } from '../exit-codes';
import { table } from '../output';

interface RoleStatus {
  role: string;
  url: string;
  status: string;
  checks: Record<string, string>;
}

interface QueueDepth {
  queue: string;
  messages: number;
  consumers: number;
  deadLetters: number;
}

/** The workers have no API to ask: each is seen through the consumers of the queue it works. */
const WORKER_OF_QUEUE: Record<string, string> = {
  'stack-trigger.vcs-events': 'trigger',
  'stack-trigger.status-updates': 'reporter',
  'runs.ready': 'runner',
  'stack-trigger.delivery-records': 'stack-trigger API',
};

async function probe(role: string, url: string): Promise<RoleStatus> {
  try {
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { status?: string; checks?: Record<string, string> };
    return { role, url, status: body.status ?? `HTTP ${res.status}`, checks: body.checks ?? {} };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    return { role, url, status: `unreachable (${cause?.code ?? (err as Error).message})`, checks: {} };
  }
}

export const statusCommand: Command = {
  name: 'status',
  summary: "every role's readiness and the work queues' depths (exit 7 when something is not ready)",
  usage: '',
  help: [
    'asks /readyz of the integration API, the stack-trigger API and (with STACKLINK_GATEWAY_URL) a gateway;',
    "the workers through the consumers of their queues (stack-trigger's /internal/v1/queues,",
    'STACKLINK_INTERNAL_TOKEN).',
  ],
  async run(ctx) {
    const config = ctx.config();
    const roles = await Promise.all([
      probe('integration', config.integrationUrl),
      probe('stack-trigger', config.apiUrl),
      ...(config.gatewayUrl === undefined ? [] : [probe('gateway', config.gatewayUrl)]),
    ]);
    let queues: QueueDepth[] = [];
    let queueProblem: string | undefined;
    try {
      queues = (await ctx.internal().request<{ queues: QueueDepth[] }>({ path: '/internal/v1/queues' }))
        .queues;
    } catch (err) {
      if (!(err instanceof CliError)) throw err;
      queueProblem = err.message;
    }
    const answer = { roles, queues, ...(queueProblem === undefined ? {} : { queueProblem }) };
    print(ctx, answer, (a) =>
      [
        table(a.roles, [
          ['role', (r) => r.role],
          ['status', (r) => r.status],
          ['checks', (r) => Object.entries(r.checks).map(([name, state]) => `${name}=${state}`)],
          ['url', (r) => r.url],
        ]),
        '',
        queueProblem === undefined
          ? table(a.queues, [
              ['queue', (q) => q.queue],
              ['worked by', (q) => WORKER_OF_QUEUE[q.queue] ?? '-'],
              ['consumers', (q) => q.consumers],
              ['messages', (q) => q.messages],
              ['dead letters', (q) => q.deadLetters],
            ])
          : `queues: ${queueProblem}`,
      ].join('\n'),
    );
    const healthy =
      roles.every((r) => r.status === 'ready' || r.status === 'degraded') &&
      queueProblem === undefined &&
      queues.every((q) => q.consumers > 0);
    return healthy ? EXIT.OK : EXIT.CHECK_FAILED;
  },
};
