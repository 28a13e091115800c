#!/usr/bin/env node
import { runCli } from './run-cli';

// The `stacklink` bin: Ctrl-C stops a followed log stream cleanly.
const abort = new AbortController();
process.once('SIGINT', () => abort.abort());
runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  signal: abort.signal,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`stacklink: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
