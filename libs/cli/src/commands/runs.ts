import type { LogChunk, RunLogPage } from '@stacklink/contracts';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiClient } from '../api-client';
import { print, type CommandContext, type CommandGroup } from '../command';
import { CliError, EXIT, type ExitCode } from '../exit-codes';
import { details } from '../output';
import { runTable } from './stacks';
import type { RunAnswer, RunsPageAnswer, RunViewAnswer } from '@stacklink/contracts';

/** A log chunk (the run-logs contract: `GET /api/v1/runs/{id}/logs`). */
const FINAL_STATES = ['FINISHED', 'FAILED', 'CANCELED'];
const runPath = (id: string, suffix = '') => `/api/v1/runs/${encodeURIComponent(id)}${suffix}`;

function showRun(r: RunViewAnswer): string {
  return details([
    ['id', r.id],
    ['stack', r.stack === undefined ? r.stackId : `${r.stack.name} (${r.stack.id})`],
    ['type', r.type],
    ['state', r.state],
    ['commit', r.commit],
    ['ref', r.ref],
    ['pull request', r.pullRequest === undefined ? undefined : `#${r.pullRequest.id}`],
    ['trigger', [r.trigger.kind, r.trigger.deliveryId].filter((v) => v !== undefined).join(' delivery ')],
    ['note', r.note],
    ['commit link', r.links?.commit],
    ['pull-request link', r.links?.pullRequest],
    ['created', r.createdAt],
    ['updated', r.updatedAt],
    ...(r.transitions ?? []).map((t) => [`  ${t.state}`, t.at] as [string, unknown]),
  ]);
}

function writeChunk(ctx: CommandContext, chunk: LogChunk): void {
  if (ctx.json) ctx.out(JSON.stringify(chunk));
  else
    ctx.out(
      chunk.stream === 'system'
        ? `[stacklink] ${chunk.text.replace(/\n$/, '')}`
        : chunk.text.replace(/\n$/, ''),
    );
}

function integerOption(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new CliError(EXIT.INVALID_INPUT, `--${name} must be an integer from ${min} to ${max}`);
  }
  return n;
}

/** Every stored chunk after `after`, page by page. */
async function printStoredLog(
  ctx: CommandContext,
  api: ApiClient,
  id: string,
  after?: number,
): Promise<void> {
  let cursor = after;
  for (;;) {
    const page = await api.request<RunLogPage>({
      path: runPath(id, '/logs'),
      query: { after: cursor, limit: 1000 },
    });
    for (const chunk of page.chunks) writeChunk(ctx, chunk);
    if (page.nextAfter === null || page.chunks.length === 0) return;
    cursor = page.nextAfter;
  }
}

/**
 * Follows `GET /api/v1/runs/{id}/logs/stream` (server-sent events) until its `end` event, resuming
 * after the last chunk seen when the connection drops. Answers the run's final state.
 */
async function followLog(ctx: CommandContext, api: ApiClient, id: string, after?: number): Promise<string> {
  let lastSeq = after;
  for (;;) {
    let res: Response;
    try {
      res = await api.open({
        path: runPath(id, '/logs/stream'),
        query: { after: lastSeq },
        accept: 'text/event-stream',
        signal: ctx.signal,
      });
    } catch (err) {
      if (ctx.signal.aborted) throw new CliError(EXIT.OK, 'stopped');
      if (err instanceof CliError && err.exitCode === EXIT.UNAVAILABLE) {
        ctx.note(`stacklink: ${err.message}; retrying`);
        await sleep(1000);
        continue;
      }
      throw err;
    }
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const bytes of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(bytes, { stream: true });
        let boundary: number;
        while ((boundary = buffer.search(/\r?\n\r?\n/)) !== -1) {
          const block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary).replace(/^\r?\n\r?\n/, '');
          const event = parseEvent(block);
          if (event.type === 'chunk') {
            const chunk = JSON.parse(event.data) as LogChunk;
            lastSeq = chunk.seq;
            writeChunk(ctx, chunk);
          } else if (event.type === 'state') {
            const state = JSON.parse(event.data) as { state: string; at: string };
            if (ctx.json) ctx.out(JSON.stringify({ event: 'state', ...state }));
            else ctx.note(`stacklink: run ${id} is ${state.state}`);
          } else if (event.type === 'end') {
            return (JSON.parse(event.data) as { state: string }).state;
          }
        }
      }
    } catch (err) {
      if (ctx.signal.aborted) throw new CliError(EXIT.OK, 'stopped');
      ctx.note(`stacklink: the log stream broke (${(err as Error).message}); resuming`);
    }
  }
}

function parseEvent(block: string): { type: string; data: string } {
  let type = 'message';
  const data: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (line.startsWith(':')) continue;
    const [field, ...rest] = line.split(':');
    const value = rest.join(':').replace(/^ /, '');
    if (field === 'event') type = value;
    else if (field === 'data') data.push(value);
  }
  return { type, data: data.join('\n') };
}

export const runCommands: CommandGroup = {
  name: 'runs',
  summary: 'runs of stacks (list, show, logs)',
  commands: [
    {
      name: 'list',
      summary: 'runs, most recent first',
      usage: '[--stack <id>] [--state <STATE>] [--limit N]',
      options: { stack: { type: 'string' }, state: { type: 'string' }, limit: { type: 'string' } },
      async run(ctx, values) {
        const limit = integerOption(values.limit, 'limit', 1, 200) ?? 50;
        const state = typeof values.state === 'string' ? values.state.toUpperCase() : undefined;
        if (state !== undefined && !['QUEUED', 'RUNNING', ...FINAL_STATES].includes(state)) {
          throw new CliError(
            EXIT.INVALID_INPUT,
            '--state must be QUEUED, RUNNING, FINISHED, FAILED or CANCELED',
          );
        }
        // One stack's route answers no page token.
        let answer: Omit<RunsPageAnswer, 'next'> & { next?: RunsPageAnswer['next'] };
        if (typeof values.stack === 'string') {
          // One stack: its own route; the state is filtered here.
          const all = await ctx.api().request<{ runs: RunAnswer[] }>({
            path: `/api/v1/stacks/${encodeURIComponent(values.stack)}/runs`,
            query: { limit: state === undefined ? limit : 1000 },
          });
          answer = { runs: all.runs.filter((r) => state === undefined || r.state === state).slice(0, limit) };
        } else {
          answer = await ctx.api().request<RunsPageAnswer>({ path: '/api/v1/runs', query: { state, limit } });
        }
        print(ctx, answer, (a) => runTable(a.runs));
      },
    },
    {
      name: 'show',
      summary: 'one run: state timeline, what triggered it, links',
      usage: '<id>',
      positionals: { min: 1, max: 1 },
      async run(ctx, _values, [id]) {
        print(ctx, await ctx.api().request<RunViewAnswer>({ path: runPath(id!) }), showRun);
      },
    },
    {
      name: 'logs',
      summary: "a run's log; --follow streams it until the run ends (exit 7 when it did not finish)",
      usage: '<id> [--follow] [--after <seq>]',
      help: ['--json  one JSON line per chunk {seq, stream, text, at}'],
      options: { follow: { type: 'boolean', short: 'f' }, after: { type: 'string' } },
      positionals: { min: 1, max: 1 },
      async run(ctx, values, [id]): Promise<ExitCode> {
        const after = integerOption(values.after, 'after', 0, Number.MAX_SAFE_INTEGER);
        const api = ctx.api();
        if (values.follow !== true) {
          await printStoredLog(ctx, api, id!, after);
          return EXIT.OK;
        }
        const state = await followLog(ctx, api, id!, after);
        return state === 'FINISHED' ? EXIT.OK : EXIT.CHECK_FAILED;
      },
    },
  ],
};
