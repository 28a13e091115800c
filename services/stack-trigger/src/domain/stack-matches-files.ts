import picomatch from 'picomatch';
import type { Stack } from './model';

/** What Bitbucket said changed: every path when it paged to the end, or a prefix when it truncated. */
export interface ChangedFiles {
  paths: string[];
  truncated: boolean;
}

/**
 * What one pushed ref changed, and the commit it names now: `after`, except for an annotated tag, whose
 * `after` is the tag object and whose commit Bitbucket resolves (tags REST `latestCommit`).
 */
export interface RefChanges {
  ref: string;
  commit: string;
  files: ChangedFiles;
  /**
   * Bitbucket no longer knows the ref or its commits (deleted or rewritten before the lookup): the ref
   * starts nothing, in these words; the push's other refs are decided as usual.
   */
  vanished?: string;
}

/**
 * Extglobs (`*(a|b)`) are off: nested quantifiers compile to regular expressions that backtrack
 * exponentially, and one pattern froze a trigger worker for seconds per path (docs/architecture.md §12).
 * `*(` is then an ordinary star followed by a literal parenthesis.
 */
export const GLOB_OPTIONS: picomatch.PicomatchOptions = { dot: true, noextglob: true };

/** Bounds the API enforces on create and update; stacks stored before them are cut to them here. */
export const MAX_GLOB_LENGTH = 200;
export const MAX_GLOBS = 50;

/** Strips `./`, leading and trailing slashes; '' and '.' both mean the whole repository. */
export function normalizeProjectRoot(projectRoot: string): string {
  let root = projectRoot.trim().replace(/\\/g, '/');
  while (root.startsWith('./')) root = root.slice(2);
  root = root.replace(/^\/+/, '').replace(/\/+$/, '');
  return root === '.' ? '' : root;
}

/**
 * Compiled matchers by the settings they were built from. Compiling globs cost more than the rest of
 * an event's trigger rules, and every event reads the stacks afresh from the store, so the cache is
 * keyed by the project root and globs themselves: a stack whose settings change gets a new key (the old
 * entry ages out), and stacks with the same settings share one. Bounded, oldest out first.
 */
const MATCHER_CACHE_SIZE = 1000;
const matcherCache = new Map<string, (path: string) => boolean>();

/** Builds the path predicate of a stack: its project root (`root/**`) or any additional glob. */
export function createStackFileMatcher(
  stack: Pick<Stack, 'projectRoot' | 'additionalProjectGlobs'>,
): (path: string) => boolean {
  const key = JSON.stringify([stack.projectRoot, stack.additionalProjectGlobs]);
  const cached = matcherCache.get(key);
  if (cached !== undefined) return cached;
  const root = normalizeProjectRoot(stack.projectRoot);
  const patterns = [root === '' ? '**' : `${escapeGlob(root)}/**`];
  // A stack stored before the API bounded globs may hold longer or more of them: such a glob is left
  // out (it cannot be matched safely), never compiled as it is.
  patterns.push(
    ...stack.additionalProjectGlobs
      .filter((g) => g.trim() !== '' && g.length <= MAX_GLOB_LENGTH)
      .slice(0, MAX_GLOBS)
      .map(literalGroups),
  );
  const isMatch = picomatch(patterns, GLOB_OPTIONS);
  const matcher = (path: string) => isMatch(path.replace(/^\/+/, ''));
  if (matcherCache.size >= MATCHER_CACHE_SIZE) matcherCache.delete(matcherCache.keys().next().value!);
  matcherCache.set(key, matcher);
  return matcher;
}

/**
 * True when the change touches the stack. A truncated list cannot prove the stack untouched, so it
 * counts as touching it (docs/architecture.md §7).
 */
export function stackMatchesFiles(
  stack: Pick<Stack, 'projectRoot' | 'additionalProjectGlobs'>,
  files: ChangedFiles,
): boolean {
  if (files.truncated) return true;
  const matches = createStackFileMatcher(stack);
  return files.paths.some(matches);
}

/**
 * Without extglob picomatch still reads `(a|b)` as a regular-expression group, so `*(*.tf|*.tfvars)`
 * would become nested stars again: parentheses and bars are path characters here, as in git's own
 * pathspecs. Braces (`*.{tf,tfvars}`) remain the way to list alternatives.
 */
export function literalGroups(glob: string): string {
  return glob.replace(/\\?[()|]/g, (c) => (c.length === 2 ? c : `\\${c}`));
}

/** A project root is a directory name, not a glob: `infra/[prod]` means that literal directory. */
function escapeGlob(path: string): string {
  return path.replace(/[*?[\]{}()!+@]/g, (c) => `\\${c}`);
}
