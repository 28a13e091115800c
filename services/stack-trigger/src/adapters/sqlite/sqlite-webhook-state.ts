import type Database from 'better-sqlite3';
import type { RepositoryCoordinates } from '../../domain/model';
import type { SeenHeadsPort, WebhookHealthRecord, WebhookHealthRepositoryPort } from '../../domain/ports';

/** Migration 7: each scope's webhook health (docs/architecture.md §14). */
export const WEBHOOK_HEALTH_MIGRATION = `
  CREATE TABLE stack_trigger_webhook_health (
    integration_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    health TEXT NOT NULL,
    detail TEXT NOT NULL,
    last_failure TEXT,
    checked_at TEXT NOT NULL,
    PRIMARY KEY (integration_id, scope)
  );`;

/** Migration 8: the last commit seen from events per branch and pull request of a repository. */
export const SEEN_HEADS_MIGRATION = `
  CREATE TABLE stack_trigger_seen_heads (
    repo_key TEXT NOT NULL,
    head_key TEXT NOT NULL,
    commit_sha TEXT NOT NULL,
    PRIMARY KEY (repo_key, head_key)
  );`;

interface HealthRow {
  integration_id: string;
  scope: string;
  health: WebhookHealthRecord['health'];
  detail: string;
  last_failure: string | null;
  checked_at: string;
}

export function createSqliteWebhookHealth(db: Database.Database): WebhookHealthRepositoryPort {
  const upsert = db.prepare(
    `INSERT INTO stack_trigger_webhook_health (integration_id, scope, health, detail, last_failure, checked_at)
     VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (integration_id, scope) DO UPDATE SET health = excluded.health, detail = excluded.detail,
       last_failure = excluded.last_failure, checked_at = excluded.checked_at`,
  );
  const byIntegration = db.prepare<[string], HealthRow>(
    'SELECT * FROM stack_trigger_webhook_health WHERE integration_id = ? ORDER BY scope',
  );
  const del = db.prepare('DELETE FROM stack_trigger_webhook_health WHERE integration_id = ? AND scope = ?');
  return {
    async save(r) {
      upsert.run(r.integrationId, r.scope, r.health, r.detail, r.lastFailure ?? null, r.checkedAt);
    },
    async list(integrationId) {
      return byIntegration.all(integrationId).map((row) => ({
        integrationId: row.integration_id,
        scope: row.scope,
        health: row.health,
        detail: row.detail,
        ...(row.last_failure === null ? {} : { lastFailure: row.last_failure }),
        checkedAt: row.checked_at,
      }));
    },
    async remove(integrationId, scope) {
      del.run(integrationId, scope);
    },
  };
}

export function seenHeadsKey(integrationId: string, repository: RepositoryCoordinates): string {
  return `${integrationId}/${repository.projectKey.toUpperCase()}/${repository.slug.toLowerCase()}`;
}

export function createSqliteSeenHeads(db: Database.Database): SeenHeadsPort {
  const upsert = db.prepare(
    `INSERT INTO stack_trigger_seen_heads (repo_key, head_key, commit_sha) VALUES (?, ?, ?)
     ON CONFLICT (repo_key, head_key) DO UPDATE SET commit_sha = excluded.commit_sha`,
  );
  const byRepo = db.prepare<[string], { head_key: string; commit_sha: string }>(
    'SELECT head_key, commit_sha FROM stack_trigger_seen_heads WHERE repo_key = ?',
  );
  const recordAll = db.transaction((key: string, heads: readonly { key: string; commit: string }[]) => {
    for (const h of heads) upsert.run(key, h.key, h.commit);
  });
  return {
    async record(integrationId, repository, heads) {
      if (heads.length > 0) recordAll(seenHeadsKey(integrationId, repository), heads);
    },
    async list(integrationId, repository) {
      return new Map(
        byRepo.all(seenHeadsKey(integrationId, repository)).map((r) => [r.head_key, r.commit_sha]),
      );
    },
  };
}
