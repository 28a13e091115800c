/** `main` and `refs/heads/main` name the same branch; stacks may be configured with either. */
export function branchRef(branch: string): string {
  const b = branch.trim();
  return b.startsWith('refs/') ? b : `refs/heads/${b}`;
}

export function isStackBranch(stackBranch: string, ref: string): boolean {
  return branchRef(stackBranch) === branchRef(ref);
}

export function sameRepository(
  a: { projectKey: string; slug: string },
  b: { projectKey: string; slug: string },
): boolean {
  // Bitbucket project keys are upper case but compared case-insensitively by the server; slugs are lower case.
  return (
    a.projectKey.toUpperCase() === b.projectKey.toUpperCase() && a.slug.toLowerCase() === b.slug.toLowerCase()
  );
}
