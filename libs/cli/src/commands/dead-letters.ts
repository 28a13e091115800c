import { print, type CommandGroup } from '../command';
import { CliError, EXIT } from '../exit-codes';
import { table } from '../output';
import type { ParkedMessagesAnswer } from '@stacklink/contracts';

export const deadLetterCommands: CommandGroup = {
  name: 'dead-letters',
  summary: "parked messages of stack-trigger's queues (list, replay); uses STACKLINK_INTERNAL_TOKEN",
  commands: [
    {
      name: 'list',
      summary: 'the messages parked in a queue, with their error and attempts',
      usage: '<queue> [--limit N]',
      help: ['queues: stack-trigger.vcs-events, stack-trigger.status-updates, runs.ready'],
      options: { limit: { type: 'string' } },
      positionals: { min: 1, max: 1 },
      async run(ctx, values, [queue]) {
        const answer = await ctx.internal().request<ParkedMessagesAnswer>({
          path: '/internal/v1/dead-letters',
          query: { queue, limit: values.limit as string | undefined },
        });
        print(ctx, answer, (a) =>
          table(a.messages, [
            ['message', (m) => m.messageId],
            ['error', (m) => m.errorCode],
            ['attempts', (m) => m.attempts],
            ['first failed', (m) => m.firstFailedAt],
            ['routing key', (m) => m.routingKey],
            ['message text', (m) => m.errorMessage],
          ]),
        );
      },
    },
    {
      name: 'replay',
      summary: 'sends parked messages back to their work queue as first attempts',
      usage: '<queue> (<message id>… | --all)',
      help: ['--all  every parked message of the queue (required when no message id is given)'],
      options: { all: { type: 'boolean' } },
      positionals: { min: 1, max: 1001 },
      async run(ctx, values, [queue, ...messageIds]) {
        if (messageIds.length === 0 && values.all !== true) {
          throw new CliError(EXIT.USAGE, 'name the message ids to replay, or --all for every parked message');
        }
        if (messageIds.length > 0 && values.all === true) {
          throw new CliError(EXIT.USAGE, 'give message ids or --all, not both');
        }
        const answer = await ctx.internal().request<{ queue: string; replayed: number }>({
          method: 'POST',
          path: '/internal/v1/dead-letters/replay',
          body: { queue, ...(messageIds.length > 0 ? { messageIds } : {}) },
        });
        print(ctx, answer, (a) => `replayed ${a.replayed} message(s) of ${a.queue}`);
      },
    },
  ],
};
