import type { BitbucketClient, Webhook, WebhookRequest, WebhookScope } from '@stacklink/bitbucket';
import { formatWebhookScope, scopedWebhookSecret } from '@stacklink/bitbucket';
import { isAppError } from '@stacklink/errors';
import { SUBSCRIBED_EVENT_KEYS } from '@stacklink/events';
import type { Logger } from '@stacklink/logger';
import type { StackRepositoryPort, WebhookHealthRecord, WebhookHealthRepositoryPort } from './ports';
import type {
  ReconcilerIntegrationsPort,
  ReconcilerLeasePort,
  ReconcilerMetricsPort,
} from './reconciler-ports';

/** Calls Bitbucket for an integration, within the shared rate limit. */
export type BitbucketCall = <T>(
  integrationId: string,
  request: (client: BitbucketClient) => Promise<T>,
) => Promise<T>;

export interface ReconcileWebhooksDeps {
  stacks: StackRepositoryPort;
  health: WebhookHealthRepositoryPort;
  integrations: ReconcilerIntegrationsPort;
  lease: ReconcilerLeasePort;
  call: BitbucketCall;
  metrics: ReconcilerMetricsPort;
  logger: Logger;
  publicWebhookBaseUrl: string;
  now?: () => Date;
}

export const managedWebhookName = (integrationId: string): string => `stacklink-${integrationId}`;

/**
 * Managed webhooks (docs/architecture.md §14) for one integration: every repository (or project) its
 * stacks use carries exactly one hook named `stacklink-<integrationId>` with the §6 events, the scoped
 * URL and secret of §12, active; hooks of that name no stack needs any more are removed, and no other
 * hook is ever touched (a manual hook pointing at us is adopted: renamed and set right). Each scope's
 * health is recorded. Every write is preceded by a check that this replica still holds the lease.
 */
export function createReconcileWebhooks(deps: ReconcileWebhooksDeps) {
  const now = () => (deps.now ?? (() => new Date()))().toISOString();
  const base = deps.publicWebhookBaseUrl.replace(/\/+$/, '');
  const endpointOf = (integrationId: string) =>
    `${base}/webhooks/bitbucket-dc/${encodeURIComponent(integrationId)}`;

  return async function reconcileIntegration(integrationId: string): Promise<WebhookHealthRecord[]> {
    const log = deps.logger.child({ integrationId });
    const settings = await deps.integrations.settings(integrationId);
    const recorded = await deps.health.list(integrationId);
    if (settings === undefined || settings.mode !== 'managed') {
      // Manual (or gone): hooks stay where they are; nothing is created, repaired or removed.
      return recorded;
    }
    const secret = await deps.integrations.webhookSecret(integrationId);
    if (secret === undefined) return recorded;
    const stacks = (await deps.stacks.list({ integrationId })).filter((s) => s.enabled);
    const repositoryScopes = uniqueScopes(
      stacks.map((s) => ({ projectKey: s.repository.projectKey, slug: s.repository.slug })),
    );

    const wanted: { scope: WebhookScope; fallbackNote?: string }[] = [];
    if (settings.scope === 'project') {
      for (const project of new Set(repositoryScopes.map((s) => s.projectKey))) {
        const projectScope = { projectKey: project };
        const allowed = await probe(integrationId, projectScope);
        if (allowed) wanted.push({ scope: projectScope });
        else {
          // No PROJECT_ADMIN on this project: manage its repositories one by one instead, and say so.
          const note = `project hooks on ${project} need PROJECT_ADMIN, which the token lacks: managed per repository instead`;
          log.warn(note);
          for (const r of repositoryScopes.filter((s) => s.projectKey === project))
            wanted.push({ scope: r, fallbackNote: note });
        }
      }
    } else wanted.push(...repositoryScopes.map((scope) => ({ scope })));

    const results: WebhookHealthRecord[] = [];
    const wantedNames = new Set(wanted.map((w) => formatWebhookScope(w.scope)));
    for (const w of wanted) {
      const previous = recorded.find((r) => r.scope === formatWebhookScope(w.scope));
      const record = await reconcileScope(integrationId, w.scope, secret, previous, log);
      if (w.fallbackNote !== undefined) record.detail = `${record.detail} (${w.fallbackNote})`;
      await deps.health.save(record);
      results.push(record);
    }
    // Scopes we managed that no stack needs any more: our hook goes, nothing else.
    for (const stale of recorded.filter((r) => !wantedNames.has(r.scope))) {
      const scope = parseScope(stale.scope);
      try {
        const hooks = await deps.call(integrationId, (c) => c.listWebhooksOf(scope));
        for (const hook of hooks.values.filter((h) => h.name === managedWebhookName(integrationId))) {
          await deps.lease.assertHeld();
          await deps.call(integrationId, (c) => c.deleteWebhookOn(scope, hook.id));
          deps.metrics.webhookAction('removed');
          log.info('managed webhook removed: no stack needs it', { scope: stale.scope, webhookId: hook.id });
        }
        await deps.health.remove(integrationId, stale.scope);
      } catch (err) {
        if (isAppError(err) && err.code === 'RECONCILER.LEASE_LOST') throw err;
        log.warn('a managed webhook no stack needs could not be removed; trying again later', {
          scope: stale.scope,
          err,
        });
      }
    }
    return results;
  };

  /** Whether the token may manage the scope's hooks: one listing, which the reconcile reuses anyway. */
  async function probe(integrationId: string, scope: WebhookScope): Promise<boolean> {
    try {
      await deps.call(integrationId, (c) => c.listWebhooksOf(scope));
      return true;
    } catch (err) {
      if (isAppError(err) && err.code === 'BITBUCKET.FORBIDDEN') return false;
      throw err;
    }
  }

  async function reconcileScope(
    integrationId: string,
    scope: WebhookScope,
    integrationSecret: string,
    previous: WebhookHealthRecord | undefined,
    log: Logger,
  ): Promise<WebhookHealthRecord> {
    const scopeName = formatWebhookScope(scope);
    const record = (
      health: WebhookHealthRecord['health'],
      detail: string,
      lastFailure?: string,
    ): WebhookHealthRecord => ({
      integrationId,
      scope: scopeName,
      health,
      detail,
      ...(lastFailure === undefined ? {} : { lastFailure }),
      checkedAt: now(),
    });
    const expected: WebhookRequest = {
      name: managedWebhookName(integrationId),
      url: `${endpointOf(integrationId)}?scope=${scopeName}`,
      events: [...SUBSCRIBED_EVENT_KEYS],
      active: true,
      configuration: { secret: scopedWebhookSecret(integrationSecret, scopeName) },
    };
    let hooks: Webhook[];
    try {
      hooks = (await deps.call(integrationId, (c) => c.listWebhooksOf(scope))).values;
    } catch (err) {
      if (isAppError(err) && err.code === 'BITBUCKET.FORBIDDEN') {
        deps.metrics.webhookAction('forbidden');
        const permission = scope.slug === undefined ? 'PROJECT_ADMIN' : 'REPO_ADMIN';
        return record(
          'forbidden',
          `the token lacks ${permission} on ${scopeName}, so Stacklink cannot manage its webhook: grant ${permission} or set the webhook up by hand (${err.message})`,
        );
      }
      throw err;
    }
    const ours = hooks.filter((h) => h.name === expected.name);
    // A hook set up by hand that points at us is adopted rather than doubled (manual → managed).
    const adoptable =
      ours.length === 0 ? hooks.find((h) => h.url.startsWith(endpointOf(integrationId))) : undefined;
    const kept = ours[0] ?? adoptable;
    for (const extra of ours.slice(1)) {
      await deps.lease.assertHeld();
      await deps.call(integrationId, (c) => c.deleteWebhookOn(scope, extra.id));
      log.info('a second managed webhook removed: one per scope', { scope: scopeName, webhookId: extra.id });
    }
    if (kept === undefined) {
      await deps.lease.assertHeld();
      const created = await deps.call(integrationId, (c) => c.createWebhookOn(scope, expected));
      deps.metrics.webhookAction('created');
      log.info('managed webhook created', { scope: scopeName, webhookId: created.id });
      return previous === undefined
        ? record('ok', `webhook ${created.id} created`)
        : record('repaired', `webhook was missing; created again as ${created.id}`);
    }
    const drift = driftOf(kept, expected);
    if (drift.length > 0) {
      await deps.lease.assertHeld();
      await deps.call(integrationId, (c) => c.updateWebhookOn(scope, kept.id, expected));
      const adopted = kept.name !== expected.name;
      deps.metrics.webhookAction(adopted ? 'adopted' : 'repaired');
      log.info(adopted ? 'webhook set up by hand adopted' : 'managed webhook repaired', {
        scope: scopeName,
        webhookId: kept.id,
        drift,
      });
      return adopted
        ? record('ok', `webhook ${kept.id} set up by hand adopted (${drift.join(', ')})`)
        : record('repaired', `webhook ${kept.id} repaired: ${drift.join(', ')}`);
    }
    const stats = await deps.call(integrationId, (c) => c.getWebhookStatistics(scope, kept.id));
    const failure = latestFailure(stats);
    if (failure !== undefined)
      return record('failing', `Bitbucket reports failed deliveries to webhook ${kept.id}`, failure);
    return record('ok', `webhook ${kept.id} as expected`);
  }
}

/** What differs between the hook Bitbucket has and the one we want, in words. */
function driftOf(hook: Webhook, expected: WebhookRequest): string[] {
  const drift: string[] = [];
  if (hook.name !== expected.name) drift.push(`name was ${hook.name}`);
  if (hook.url !== expected.url) drift.push('wrong URL');
  const have = [...hook.events].sort().join(',');
  if (have !== [...expected.events].sort().join(',')) drift.push('wrong events');
  if (!hook.active) drift.push('disabled');
  // Servers that do not show the secret cannot be checked for it; those that do must match.
  const secret = hook.configuration?.secret;
  if (secret !== undefined && secret !== expected.configuration?.secret) drift.push('wrong secret');
  return drift;
}

function latestFailure(
  stats: Awaited<ReturnType<BitbucketClient['getWebhookStatistics']>>,
): string | undefined {
  if (stats === undefined) return undefined;
  const at = (i?: { finish?: unknown; start?: unknown }) => Number(i?.finish ?? i?.start ?? 0) || 0;
  const worst = [stats.lastFailure, stats.lastError]
    .filter((i) => i !== undefined)
    .sort((a, b) => at(b) - at(a))[0];
  if (worst === undefined || at(worst) <= at(stats.lastSuccess)) return undefined;
  const when = at(worst) > 0 ? new Date(at(worst)).toISOString() : 'unknown time';
  return `${when}: ${worst.result?.outcome ?? 'FAILURE'} ${worst.result?.description ?? ''}`.trim();
}

function uniqueScopes(
  scopes: { projectKey: string; slug: string }[],
): { projectKey: string; slug: string }[] {
  const seen = new Map<string, { projectKey: string; slug: string }>();
  for (const s of scopes) seen.set(`${s.projectKey.toUpperCase()}/${s.slug.toLowerCase()}`, s);
  return [...seen.values()];
}

function parseScope(scope: string): WebhookScope {
  const [projectKey, slug] = scope.split('/');
  return slug === undefined ? { projectKey: projectKey! } : { projectKey: projectKey!, slug };
}
