import { parseArgs } from 'node:util';
import { ApiClient } from './api-client';
import { loadCliConfig, type CliConfig } from './cli-config';
import type { Command, CommandContext, CommandGroup, Values } from './command';
import { adminCommands } from './commands/admin';
import { deadLetterCommands } from './commands/dead-letters';
import { deliveryCommands } from './commands/deliveries';
import { integrationCommands } from './commands/integrations';
import { runCommands } from './commands/runs';
import { stackCommands } from './commands/stacks';
import { statusCommand } from './commands/status';
import { CliError, EXIT, type ExitCode } from './exit-codes';
import type { Terminal } from './secret-input';

const GROUPS: CommandGroup[] = [
  integrationCommands,
  stackCommands,
  runCommands,
  deliveryCommands,
  deadLetterCommands,
  adminCommands,
];
const TOP_LEVEL: Command[] = [statusCommand];

const COMMON_OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface CliIo extends Terminal {
  stdout: { write(text: string): unknown };
  env: Record<string, string | undefined>;
  cwd: string;
  signal?: AbortSignal;
}

const EXIT_CODES_HELP = `exit codes: 0 ok · 1 usage · 2 not found · 3 invalid input · 4 authentication ·
            5 unavailable · 6 conflict · 7 check failed`;

function mainHelp(): string {
  const width = Math.max(...[...GROUPS, ...TOP_LEVEL].map((g) => g.name.length));
  return [
    'usage: stacklink <command> [<subcommand>] [options] [--json] [--help]',
    '',
    ...GROUPS.map((g) => `  ${g.name.padEnd(width)}  ${g.summary}`),
    ...TOP_LEVEL.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'configuration: STACKLINK_INTEGRATION_URL (default http://127.0.0.1:8081), STACKLINK_API_URL',
    '  (default http://127.0.0.1:8082), STACKLINK_TOKEN (ADMIN_TOKEN), STACKLINK_INTERNAL_TOKEN (INTERNAL_TOKEN,',
    '  for dead-letters and status), STACKLINK_GATEWAY_URL (optional, for status); tokens default to',
    "  ./.run/dev.env's when run inside the repository after 'make up'.",
    EXIT_CODES_HELP,
  ].join('\n');
}

function groupHelp(group: CommandGroup): string {
  const width = Math.max(...group.commands.map((c) => c.name.length));
  return [
    `usage: stacklink ${group.name} <subcommand> [options]`,
    '',
    ...group.commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    `'stacklink ${group.name} <subcommand> --help' for its options`,
  ].join('\n');
}

function commandHelp(path: string, command: Command): string {
  return [
    `usage: stacklink ${path} ${command.usage} [--json]`.replace(/ +/g, ' '),
    '',
    command.summary,
    ...(command.help === undefined ? [] : ['', ...command.help.map((line) => `  ${line}`)]),
    '',
    EXIT_CODES_HELP,
  ].join('\n');
}

/** `stacklink …` in-process: parses argv, runs the command, answers the exit code (never throws). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const out = (text: string) => io.stdout.write(`${text}\n`);
  const note = (text: string) => io.stderr.write(`${text}\n`);
  const [first, second] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    (first === undefined ? note : out)(mainHelp());
    return first === undefined ? EXIT.USAGE : EXIT.OK;
  }
  const top = TOP_LEVEL.find((c) => c.name === first);
  const group = GROUPS.find((g) => g.name === first);
  let command: Command | undefined = top;
  let path = first;
  let rest = argv.slice(1);
  if (group !== undefined) {
    if (second === undefined || second === '--help' || second === '-h') {
      (second === undefined ? note : out)(groupHelp(group));
      return second === undefined ? EXIT.USAGE : EXIT.OK;
    }
    command = group.commands.find((c) => c.name === second);
    if (command === undefined) {
      note(`stacklink: unknown command '${first} ${second}'\n\n${groupHelp(group)}`);
      return EXIT.USAGE;
    }
    path = `${first} ${second}`;
    rest = argv.slice(2);
  }
  if (command === undefined) {
    note(`stacklink: unknown command '${first}'\n\n${mainHelp()}`);
    return EXIT.USAGE;
  }

  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...rest],
      options: { ...command.options, ...COMMON_OPTIONS },
      allowPositionals: true,
      strict: true,
    }));
  } catch (err) {
    note(`stacklink ${path}: ${(err as Error).message}\n\n${commandHelp(path, command)}`);
    return EXIT.USAGE;
  }
  if (values.help === true) {
    out(commandHelp(path, command));
    return EXIT.OK;
  }
  const { min, max } = command.positionals ?? { min: 0, max: 0 };
  if (positionals.length < min || positionals.length > max) {
    const why = positionals.length < min ? 'missing argument' : `unexpected argument '${positionals[max]}'`;
    note(`stacklink ${path}: ${why}\n\n${commandHelp(path, command)}`);
    return EXIT.USAGE;
  }

  let config: CliConfig | undefined;
  const getConfig = () => (config ??= loadCliConfig(io.env, io.cwd));
  const ctx: CommandContext = {
    config: getConfig,
    integration: () =>
      new ApiClient('integration API', getConfig().integrationUrl, getConfig().token, 'STACKLINK_TOKEN'),
    api: () => new ApiClient('stack-trigger API', getConfig().apiUrl, getConfig().token, 'STACKLINK_TOKEN'),
    internal: () =>
      new ApiClient(
        'stack-trigger internal API',
        getConfig().apiUrl,
        getConfig().internalToken,
        'STACKLINK_INTERNAL_TOKEN',
      ),
    json: values.json === true,
    out,
    note,
    terminal: io,
    env: io.env,
    signal: io.signal ?? new AbortController().signal,
  };
  try {
    return (await command.run(ctx, values, positionals)) ?? EXIT.OK;
  } catch (err) {
    if (err instanceof CliError) {
      note(`stacklink ${path}: ${err.message}`);
      return err.exitCode;
    }
    note(`stacklink ${path}: unexpected failure: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT.USAGE;
  }
}
