import type { Readable, Writable } from 'node:stream';
import { CliError, EXIT } from './exit-codes';

export interface Terminal {
  stdin: Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  stderr: Writable;
}

/**
 * A secret from stdin (`--…-stdin`: the whole input, one trailing line break removed) or, on a terminal,
 * from a prompt that does not echo. Never from argv: arguments are visible to every user in `ps`.
 */
export async function readSecret(
  terminal: Terminal,
  what: string,
  options: { fromStdin: boolean; flag: string },
): Promise<string> {
  const value = options.fromStdin
    ? await readAll(terminal.stdin)
    : await prompt(terminal, what, options.flag);
  const secret = value.replace(/\r?\n$/, '');
  if (secret === '') throw new CliError(EXIT.INVALID_INPUT, `${what} is empty`);
  return secret;
}

async function readAll(stream: Readable): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text;
}

async function prompt(terminal: Terminal, what: string, flag: string): Promise<string> {
  const { stdin, stderr } = terminal;
  if (stdin.isTTY !== true || stdin.setRawMode === undefined) {
    throw new CliError(
      EXIT.USAGE,
      `${what} is needed: pipe it with ${flag}, or run on a terminal to be asked`,
    );
  }
  stderr.write(`${what}: `);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  try {
    return await new Promise<string>((resolve, reject) => {
      let typed = '';
      const onData = (chunk: string) => {
        for (const ch of chunk) {
          if (ch === '\r' || ch === '\n') {
            stdin.off('data', onData);
            stderr.write('\n');
            resolve(typed);
            return;
          }
          if (ch === '\u0003') {
            stdin.off('data', onData);
            reject(new CliError(EXIT.USAGE, 'interrupted'));
            return;
          }
          typed = ch === '\u007f' ? typed.slice(0, -1) : typed + ch;
        }
      };
      stdin.on('data', onData);
      stdin.resume();
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
  }
}
