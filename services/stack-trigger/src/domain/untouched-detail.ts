import type { Stack } from './model';
import { normalizeProjectRoot, type ChangedFiles } from './stack-matches-files';

/** Changed files named in a skip reason at most: enough to see why, short enough to read. */
export const UNTOUCHED_FILES_SHOWN = 5;

/**
 * Why a change left a stack alone, in words a developer understands (docs/architecture.md §13): what the
 * stack watches and the first files that did change, e.g. `no file under stacks/network changed;
 * changed: docs/README.md, app/main.ts (+3 more)`.
 */
export function untouchedDetail(
  stack: Pick<Stack, 'projectRoot' | 'additionalProjectGlobs'>,
  files: ChangedFiles | undefined,
  what?: string,
): string {
  const root = normalizeProjectRoot(stack.projectRoot);
  const globs = stack.additionalProjectGlobs.filter((g) => g.trim() !== '');
  const watched = [root === '' ? 'the repository' : root, ...globs.map((g) => `"${g}"`)].join(' or ');
  const paths = files?.paths ?? [];
  const shown = paths.slice(0, UNTOUCHED_FILES_SHOWN).join(', ');
  const more = paths.length > UNTOUCHED_FILES_SHOWN ? ` (+${paths.length - UNTOUCHED_FILES_SHOWN} more)` : '';
  const changed = paths.length === 0 ? 'no file changed' : `changed: ${shown}${more}`;
  return `${what === undefined ? '' : `${what}: `}no file under ${watched} changed; ${changed}`;
}
