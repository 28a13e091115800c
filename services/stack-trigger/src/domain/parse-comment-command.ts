/** What a pull request comment asks of Stacklink (docs/architecture.md §7). */
export type CommentCommand =
  { kind: 'none' } | { kind: 'propose' | 'retry'; stack?: string } | { kind: 'help'; problem: string };

export const COMMAND_PREFIX = '/stacklink';

export const COMMAND_HELP = [
  'Stacklink commands (write them at the start of a new pull request comment):',
  '- `/stacklink propose [stack]` — start a proposed run on the latest commit of this pull request, for the named stack or for every stack it touches',
  '- `/stacklink retry [stack]` — run again the failed or canceled proposed runs of the latest commit, for the named stack or for every stack',
].join('\n');

/**
 * Only a comment whose first word is `/stacklink` is a command; anything after the prefix that is not
 * a known command gets the help text (docs/architecture.md §7). Stack names may be quoted to hold spaces.
 */
export function parseCommentCommand(text: string): CommentCommand {
  const firstLine = text.trimStart().split(/\r?\n/, 1)[0] ?? '';
  if (!firstLine.startsWith(COMMAND_PREFIX)) return { kind: 'none' };
  const rest = firstLine.slice(COMMAND_PREFIX.length);
  // `/stacklinked` is a word, not our prefix.
  if (rest !== '' && !/^\s/.test(rest)) return { kind: 'none' };
  const words = tokenize(rest.trim());
  if (words === undefined) return { kind: 'help', problem: 'unbalanced quotes in the command' };
  const [verb, ...args] = words;
  if (verb === undefined) return { kind: 'help', problem: 'no command given' };
  const name = verb.toLowerCase();
  if (name !== 'propose' && name !== 'retry') return { kind: 'help', problem: `unknown command "${verb}"` };
  if (args.length > 1) return { kind: 'help', problem: `"${verb}" takes at most one stack name` };
  return args[0] === undefined ? { kind: name } : { kind: name, stack: args[0] };
}

function tokenize(input: string): string[] | undefined {
  const words: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  let match: RegExpExecArray | null;
  while ((match = re.exec(input)) !== null) {
    const word = match[1] ?? match[2] ?? match[3] ?? '';
    if (match[3] !== undefined && /["']/.test(word)) return undefined;
    words.push(word);
  }
  return words;
}
