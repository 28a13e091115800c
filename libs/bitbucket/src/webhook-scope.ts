import { createHmac } from 'node:crypto';

/**
 * The scope of a webhook registered on one repository (`P/r`) or one project (`P`), as it appears in
 * the webhook's URL (`?scope=P/r`, docs/architecture.md §12). Project keys and slugs within
 * Bitbucket's limits (≤ 128 each); personal projects start with `~`.
 */
export interface WebhookScope {
  projectKey: string;
  /** Absent for a project-level webhook. */
  slug?: string;
}

const SCOPE = /^(~?[A-Za-z0-9_.@-]{1,128})(?:\/([A-Za-z0-9_.-]{1,128}))?$/;

/** The scope written as `P/r` or `P`, or undefined when it is not one. */
export function parseWebhookScope(value: string): WebhookScope | undefined {
  const match = SCOPE.exec(value);
  if (match === null) return undefined;
  return match[2] === undefined ? { projectKey: match[1]! } : { projectKey: match[1]!, slug: match[2] };
}

export function formatWebhookScope(scope: WebhookScope): string {
  return scope.slug === undefined ? scope.projectKey : `${scope.projectKey}/${scope.slug}`;
}

/**
 * The secret of a scoped webhook: `hex(HMAC-SHA256(integrationSecret, "scope:" + scope))`. Derived, so
 * rotating the integration secret rotates every scoped secret with it, and the gateway needs no store.
 */
export function scopedWebhookSecret(integrationSecret: string, scope: string): string {
  return createHmac('sha256', integrationSecret).update(`scope:${scope}`).digest('hex');
}

/**
 * Whether a repository lies inside the scope. Bitbucket treats project keys and slugs
 * case-insensitively in its URLs, so the comparison does too.
 */
export function isWithinScope(
  scope: WebhookScope,
  repository: { projectKey: string; slug: string },
): boolean {
  if (repository.projectKey.toUpperCase() !== scope.projectKey.toUpperCase()) return false;
  return scope.slug === undefined || repository.slug.toLowerCase() === scope.slug.toLowerCase();
}
