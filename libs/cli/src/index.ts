export { runCli } from './run-cli';
export type { CliIo } from './run-cli';
export { EXIT, CliError } from './exit-codes';
export type { ExitCode } from './exit-codes';
