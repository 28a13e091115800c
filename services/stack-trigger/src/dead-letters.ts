import { createBus } from '@stacklink/bus';
import { Joi, describeConfigError, loadConfig, sharedVariables } from '@stacklink/config';
import { stackTriggerTopology } from '@stacklink/contracts';
import { createLogger } from '@stacklink/logger';
import { DEAD_LETTER_QUEUES, toParkedMessage, type DeadLettersPort } from './dead-letter-queues';

const USAGE = `usage: node services/stack-trigger/dist/src/dead-letters.js list <queue> [--limit N]
       node services/stack-trigger/dist/src/dead-letters.js replay <queue> [messageId…]
queues: ${DEAD_LETTER_QUEUES.join(', ')}
reads RABBITMQ_URL and NAMESPACE like the stack-trigger roles; replay without ids replays every parked message`;

/**
 * The dead-letter command (docs/architecture.md §9): `list` prints one JSON line per parked message (id,
 * error, attempts, first failure, routing key, body); `replay` sends the chosen ones back to their work queue
 * as first attempts. Returns the exit code.
 */
export async function runDeadLettersCommand(
  args: readonly string[],
  deps: { bus: DeadLettersPort; out: (line: string) => void },
): Promise<number> {
  const [command, queue, ...rest] = args;
  if (
    (command !== 'list' && command !== 'replay') ||
    queue === undefined ||
    !DEAD_LETTER_QUEUES.includes(queue)
  ) {
    deps.out(USAGE);
    return 2;
  }
  if (command === 'list') {
    const at = rest.indexOf('--limit');
    const limit = at === -1 ? 100 : Number(rest[at + 1]);
    if (!Number.isInteger(limit) || limit < 1) {
      deps.out(USAGE);
      return 2;
    }
    for (const parked of await deps.bus.inspectDeadLetters(queue, limit)) {
      deps.out(JSON.stringify(toParkedMessage(parked)));
    }
    return 0;
  }
  const { replayed } = await deps.bus.replayDeadLetters(queue, rest.length > 0 ? { messageIds: rest } : {});
  deps.out(JSON.stringify({ queue, replayed }));
  return 0;
}

const cliConfigSchema = Joi.object({
  RABBITMQ_URL: sharedVariables.RABBITMQ_URL,
  NAMESPACE: sharedVariables.NAMESPACE,
});

async function main(): Promise<void> {
  let config: { RABBITMQ_URL: string; NAMESPACE: string };
  try {
    config = loadConfig(cliConfigSchema);
  } catch (err) {
    process.stderr.write(`${describeConfigError(err)}\n`);
    process.exit(1);
  }
  const logger = createLogger({ service: 'stack-trigger-dead-letters', level: 'warn' });
  const bus = createBus({
    url: config.RABBITMQ_URL,
    logger,
    namespace: config.NAMESPACE,
    topology: stackTriggerTopology,
    connectionName: 'stack-trigger dead-letters command',
  });
  await bus.start();
  try {
    process.exitCode = await runDeadLettersCommand(process.argv.slice(2), {
      bus,
      out: (line) => process.stdout.write(`${line}\n`),
    });
  } finally {
    await bus.close();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`dead-letters: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
