import type { ParseArgsConfig } from 'node:util';
import type { ApiClient } from './api-client';
import type { CliConfig } from './cli-config';
import type { ExitCode } from './exit-codes';
import type { Terminal } from './secret-input';

export type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** What a command may use: the APIs, the configuration, and its output streams. */
export interface CommandContext {
  config(): CliConfig;
  /** The integration service's public API (ADMIN_TOKEN). */
  integration(): ApiClient;
  /** The stack-trigger public API (ADMIN_TOKEN). */
  api(): ApiClient;
  /** The stack-trigger internal API (INTERNAL_TOKEN). */
  internal(): ApiClient;
  json: boolean;
  /** A line (or lines) on stdout. */
  out(text: string): void;
  /** A line on stderr: progress and warnings, never data. */
  note(text: string): void;
  terminal: Terminal;
  env: Record<string, string | undefined>;
  /** Aborted on Ctrl-C, for the commands that follow a stream. */
  signal: AbortSignal;
}

export interface Command {
  name: string;
  summary: string;
  /** The arguments after the command's name, e.g. `<id> [--limit N]`. */
  usage: string;
  /** Lines after the usage in `--help`: what each option means. */
  help?: string[];
  options?: Options;
  /** How many positional arguments it takes. */
  positionals?: { min: number; max: number };
  run(ctx: CommandContext, values: Values, positionals: string[]): Promise<ExitCode | void>;
}

export interface CommandGroup {
  name: string;
  summary: string;
  commands: Command[];
}

/** Printed the way the API answered under `--json`, through `render` otherwise. */
export function print<T>(ctx: CommandContext, answer: T, render: (answer: T) => string): void {
  ctx.out(ctx.json ? JSON.stringify(answer, null, 2) : render(answer));
}
