import path from 'node:path';

/**
 * Why a stack's project root must not reach a command, or undefined when it is a directory inside the
 * work directory. The API already refuses such roots; this is the runner's own check, because the root
 * is passed to commands (STACKLINK_PROJECT_ROOT) and a stack stored before that check may still hold one
 * (docs/architecture.md §12).
 */
export function projectRootProblem(projectRoot: string, workDir: string): string | undefined {
  const root = projectRoot.trim().replace(/\\/g, '/');
  if (root.includes('\u0000')) return 'the project root contains a NUL character';
  if (path.posix.isAbsolute(root) || /^[A-Za-z]:/.test(root))
    return `the project root "${projectRoot}" is an absolute path, not a directory of the repository`;
  const base = path.resolve(workDir);
  const resolved = path.resolve(base, root);
  if (resolved !== base && !resolved.startsWith(base + path.sep))
    return `the project root "${projectRoot}" resolves outside the work directory`;
  return undefined;
}
