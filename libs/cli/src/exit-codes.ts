/**
 * What `stacklink` exits with, so scripts can tell outcomes apart (libs/cli/README.md lists them).
 * An HTTP answer maps onto them in api-client.ts.
 */
export const EXIT = {
  OK: 0,
  /** Unknown command or option, missing argument (nothing was sent); also an unexpected failure. */
  USAGE: 1,
  /** 404: the integration, stack, run, delivery … does not exist. */
  NOT_FOUND: 2,
  /** 400: the API refused the input (the message names the field). */
  INVALID_INPUT: 3,
  /** 401 / 403: no token, a wrong token, or a token without the right. */
  AUTH: 4,
  /** The API cannot be reached, is not ready, or answered 5xx. */
  UNAVAILABLE: 5,
  /** 409: the request conflicts with the current state (e.g. an integration still in use). */
  CONFLICT: 6,
  /** The command worked and its answer is a failure: a failing connection check, a role not ready. */
  CHECK_FAILED: 7,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure the command reports on stderr as one line, exiting with `exitCode`. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function usageError(message: string): CliError {
  return new CliError(EXIT.USAGE, message);
}
