import { randomUUID } from 'node:crypto';
import { migrate as runMigrations, openSqliteDatabase } from '@stacklink/sqlite';
import type Database from 'better-sqlite3';
import { AppError } from '@stacklink/errors';
import type {
  NewRun,
  NewStack,
  RepositoryCoordinates,
  Run,
  RunState,
  RunTransition,
  Stack,
  StackPatch,
} from '../../domain/model';
import { patchedStack, withStackDefaults } from '../../domain/model';
import type {
  CreatedRun,
  RunCommentRepositoryPort,
  RunRepositoryPort,
  StackRepositoryPort,
  TransitionResult,
} from '../../domain/ports';
import type { Store } from '../store';
import { createSqliteDeliveryHistory, DELIVERY_HISTORY_MIGRATION } from './sqlite-delivery-history';
import { createSqliteRunLogs, RUN_LOGS_MIGRATION } from './sqlite-run-logs';
import {
  createSqliteSeenHeads,
  createSqliteWebhookHealth,
  SEEN_HEADS_MIGRATION,
  WEBHOOK_HEALTH_MIGRATION,
} from './sqlite-webhook-state';

const SERVICE = 'stack-trigger';

/**
 * Migrations are recorded per service in `schema_migrations` because the integration service may keep
 * its own tables in the same SQLite file; every table of ours starts with `stack_trigger_`.
 */
export const MIGRATIONS: { version: number; name?: string; sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE stack_trigger_stacks (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        integration_id TEXT NOT NULL,
        repo_key TEXT NOT NULL,
        doc TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX stack_trigger_stacks_by_repository ON stack_trigger_stacks (integration_id, repo_key);
      CREATE TABLE stack_trigger_run_sequences (
        stack_id TEXT PRIMARY KEY,
        last INTEGER NOT NULL
      );
      CREATE TABLE stack_trigger_runs (
        id TEXT PRIMARY KEY,
        stack_id TEXT NOT NULL,
        type TEXT NOT NULL CHECK (type IN ('tracked', 'proposed')),
        commit_sha TEXT NOT NULL,
        ref TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('QUEUED', 'RUNNING', 'FINISHED', 'FAILED', 'CANCELED')),
        version INTEGER NOT NULL,
        sequence INTEGER NOT NULL,
        pull_request_id INTEGER,
        pull_request TEXT,
        trigger TEXT NOT NULL,
        note TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (stack_id, commit_sha, type),
        UNIQUE (stack_id, sequence)
      );
      CREATE INDEX stack_trigger_runs_by_state ON stack_trigger_runs (state, stack_id, sequence);
      CREATE INDEX stack_trigger_runs_by_pull_request ON stack_trigger_runs (stack_id, pull_request_id, state);
    `,
  },
  {
    version: 2,
    name: 'stack settings prComments and enabled; the pull-request comment of each run',
    // Stacks written before this read as prComments false, enabled true (toStack defaults them too).
    sql: `
      UPDATE stack_trigger_stacks
        SET doc = json_set(doc, '$.prComments', json('false'), '$.enabled', json('true'))
        WHERE json_extract(doc, '$.enabled') IS NULL;
      CREATE TABLE stack_trigger_run_comments (
        run_id TEXT PRIMARY KEY,
        comment_id INTEGER NOT NULL,
        comment_version INTEGER NOT NULL,
        run_version INTEGER NOT NULL,
        updated_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'who canceled a run: operator cancels are not retried by comment',
    sql: `ALTER TABLE stack_trigger_runs ADD COLUMN canceled_by TEXT;`,
  },
  {
    version: 4,
    name: 'delivery history: gateway records and trigger decisions',
    sql: DELIVERY_HISTORY_MIGRATION,
  },
  {
    version: 5,
    name: "run logs and the runs' state timeline",
    sql: RUN_LOGS_MIGRATION,
  },
  {
    version: 6,
    name: 'run summaries for Code Insights reports, and when a run started',
    sql: `ALTER TABLE stack_trigger_runs ADD COLUMN summary TEXT;
          ALTER TABLE stack_trigger_runs ADD COLUMN started_at TEXT;`,
  },
  {
    version: 7,
    name: "managed webhooks: each repository's or project's webhook health",
    sql: WEBHOOK_HEALTH_MIGRATION,
  },
  {
    version: 8,
    name: 'missed-event recovery: the last commit seen from events per branch and pull request',
    sql: SEEN_HEADS_MIGRATION,
  },
];

interface StackRow {
  id: string;
  name: string;
  integration_id: string;
  doc: string;
  created_at: string;
  updated_at: string;
}

interface RunRow {
  id: string;
  stack_id: string;
  type: Run['type'];
  commit_sha: string;
  ref: string;
  state: RunState;
  version: number;
  sequence: number;
  pull_request: string | null;
  trigger: string;
  note: string | null;
  canceled_by?: string | null;
  transitions?: string | null;
  summary?: string | null;
  started_at?: string | null;
  created_at: string;
  updated_at: string;
}

export function repositoryKey(integrationId: string, repository: RepositoryCoordinates): string {
  return `${integrationId}/${repository.projectKey.toUpperCase()}/${repository.slug.toLowerCase()}`;
}

export function openSqliteStore(path: string, now: () => Date = () => new Date()): Store {
  const db = openSqliteDatabase(path);
  migrate(db);
  const stacks = createStackRepository(db, now);
  const runs = createRunRepository(db, now);
  const runComments = createRunCommentRepository(db, now);
  const deliveries = createSqliteDeliveryHistory(db);
  const logs = createSqliteRunLogs(db);
  const ping = db.prepare('SELECT 1');
  return {
    kind: 'sqlite',
    stacks,
    runs,
    runComments,
    deliveries,
    logs,
    webhookHealth: createSqliteWebhookHealth(db),
    seenHeads: createSqliteSeenHeads(db),
    ping: async () => {
      ping.get();
      return true;
    },
    close: async () => {
      db.close();
    },
  };
}

/**
 * Prepared statements by SQL text: preparing compiles the SQL, which cost more than running the query
 * on the trigger worker's hot path (`listByRepository` once per event). Statements with a variable
 * number of placeholders get one entry per arity, so the cache stays small.
 */
function statementCache(db: Database.Database): (sql: string) => Database.Statement {
  const cache = new Map<string, Database.Statement>();
  return (sql) => {
    let statement = cache.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      cache.set(sql, statement);
    }
    return statement;
  };
}

function migrate(db: Database.Database): void {
  runMigrations(
    db,
    SERVICE,
    MIGRATIONS.map((m) => ({ ...m, name: m.name ?? `stack-trigger migration ${m.version}` })),
  );
}

function toStack(row: StackRow): Stack {
  const doc = JSON.parse(row.doc) as Omit<NewStack, 'name' | 'integrationId'>;
  return {
    id: row.id,
    ...withStackDefaults({ name: row.name, integrationId: row.integration_id, ...doc }),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function stackDoc(s: NewStack): string {
  const { name: _name, integrationId: _integrationId, ...rest } = s;
  return JSON.stringify({
    repository: rest.repository,
    branch: rest.branch,
    projectRoot: rest.projectRoot,
    additionalProjectGlobs: rest.additionalProjectGlobs,
    triggerOnTags: rest.triggerOnTags,
    allowForks: rest.allowForks,
    labels: rest.labels,
    prComments: rest.prComments ?? false,
    enabled: rest.enabled ?? true,
    ...(rest.disabledReason === undefined ? {} : { disabledReason: rest.disabledReason }),
  });
}

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE';
}

export function nameTaken(name: string, cause?: unknown): AppError {
  return new AppError('STACK.NAME_TAKEN', `a stack named "${name}" already exists`, {
    status: 409,
    cause,
    details: { field: 'name' },
  });
}

function createStackRepository(db: Database.Database, now: () => Date): StackRepositoryPort {
  const sql = statementCache(db);
  const insert = db.prepare(
    'INSERT INTO stack_trigger_stacks (id, name, integration_id, repo_key, doc, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const byId = db.prepare('SELECT * FROM stack_trigger_stacks WHERE id = ?');
  const write = (id: string, s: NewStack, createdAt: string, updatedAt: string): Stack => {
    try {
      insert.run(
        id,
        s.name,
        s.integrationId,
        repositoryKey(s.integrationId, s.repository),
        stackDoc(s),
        createdAt,
        updatedAt,
      );
    } catch (err) {
      if (isUniqueViolation(err)) throw nameTaken(s.name, err);
      throw err;
    }
    return { id, ...withStackDefaults(s), createdAt, updatedAt };
  };
  return {
    async create(input) {
      const at = now().toISOString();
      return write(randomUUID(), input, at, at);
    },
    async get(id) {
      const row = byId.get(id) as StackRow | undefined;
      return row && toStack(row);
    },
    async list(filter = {}) {
      const rows = (
        filter.integrationId === undefined
          ? sql('SELECT * FROM stack_trigger_stacks ORDER BY created_at, id').all()
          : sql('SELECT * FROM stack_trigger_stacks WHERE integration_id = ? ORDER BY created_at, id').all(
              filter.integrationId,
            )
      ) as StackRow[];
      return rows.map(toStack);
    },
    async listByRepository(integrationId, repository) {
      const rows = sql(
        'SELECT * FROM stack_trigger_stacks WHERE integration_id = ? AND repo_key = ? ORDER BY id',
      ).all(integrationId, repositoryKey(integrationId, repository)) as StackRow[];
      return rows.map(toStack);
    },
    async update(id, patch: StackPatch) {
      const row = byId.get(id) as StackRow | undefined;
      if (!row) return undefined;
      const next = patchedStack(toStack(row), patch, now());
      try {
        sql(
          'UPDATE stack_trigger_stacks SET name = ?, integration_id = ?, repo_key = ?, doc = ?, updated_at = ? WHERE id = ?',
        ).run(
          next.name,
          next.integrationId,
          repositoryKey(next.integrationId, next.repository),
          stackDoc(next),
          next.updatedAt,
          id,
        );
      } catch (err) {
        if (isUniqueViolation(err)) throw nameTaken(next.name, err);
        throw err;
      }
      return next;
    },
    async delete(id) {
      return db
        .transaction(() => {
          for (const table of [
            'stack_trigger_run_comments',
            'stack_trigger_run_logs',
            'stack_trigger_run_log_totals',
          ])
            sql(
              `DELETE FROM ${table} WHERE run_id IN (SELECT id FROM stack_trigger_runs WHERE stack_id = ?)`,
            ).run(id);
          sql('DELETE FROM stack_trigger_runs WHERE stack_id = ?').run(id);
          sql('DELETE FROM stack_trigger_run_sequences WHERE stack_id = ?').run(id);
          return sql('DELETE FROM stack_trigger_stacks WHERE id = ?').run(id).changes > 0;
        })
        .immediate();
    },
  };
}

function toRun(row: RunRow): Run {
  const run: Run = {
    id: row.id,
    stackId: row.stack_id,
    type: row.type,
    commit: row.commit_sha,
    ref: row.ref,
    state: row.state,
    version: row.version,
    sequence: row.sequence,
    trigger: JSON.parse(row.trigger) as Run['trigger'],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.pull_request !== null)
    run.pullRequest = JSON.parse(row.pull_request) as NonNullable<Run['pullRequest']>;
  if (row.note !== null) run.note = row.note;
  if (row.canceled_by === 'operator') run.canceledBy = 'operator';
  run.transitions =
    typeof row.transitions === 'string'
      ? (JSON.parse(row.transitions) as RunTransition[])
      : [{ state: 'QUEUED', at: row.created_at }];
  if (row.started_at) run.startedAt = row.started_at;
  if (row.summary) run.summary = JSON.parse(row.summary) as NonNullable<Run['summary']>;
  return run;
}

/** Appends `{state: ?, at: ?}` to a run's timeline in an UPDATE's SET (two parameters). */
const APPEND_TRANSITION = `transitions = json_insert(COALESCE(transitions, json_array()), '$[#]',
  json_object('state', ?, 'at', ?))`;

function createRunRepository(db: Database.Database, now: () => Date): RunRepositoryPort {
  const sql = statementCache(db);
  const byId = db.prepare('SELECT * FROM stack_trigger_runs WHERE id = ?');
  const byKey = db.prepare(
    'SELECT * FROM stack_trigger_runs WHERE stack_id = ? AND commit_sha = ? AND type = ?',
  );
  const nextSequence = db.prepare(
    `INSERT INTO stack_trigger_run_sequences (stack_id, last) VALUES (?, 1)
     ON CONFLICT (stack_id) DO UPDATE SET last = last + 1 RETURNING last`,
  );
  const insert = db.prepare(
    `INSERT INTO stack_trigger_runs (id, stack_id, type, commit_sha, ref, state, version, sequence, pull_request_id,
       pull_request, trigger, note, transitions, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, 'QUEUED', 1, ?, ?, ?, ?, ?, json_array(json_object('state', 'QUEUED', 'at', ?)), ?, ?)`,
  );
  // IMMEDIATE takes the write lock first, so the existence check and the insert see the same data even
  // when another process writes the file.
  const adoptPullRequest = db.prepare(
    'UPDATE stack_trigger_runs SET pull_request_id = ?, pull_request = ? WHERE id = ? AND pull_request_id IS NULL',
  );
  const createTx = db.transaction((input: NewRun): CreatedRun => {
    const existing = byKey.get(input.stackId, input.commit, input.type) as RunRow | undefined;
    if (existing) {
      // See RunRepositoryPort.create: a run a push created belongs to the pull request of its commit.
      if (input.pullRequest && existing.pull_request === null) {
        adoptPullRequest.run(input.pullRequest.id, JSON.stringify(input.pullRequest), existing.id);
        return { run: toRun(byId.get(existing.id) as RunRow), created: false };
      }
      return { run: toRun(existing), created: false };
    }
    const { last } = nextSequence.get(input.stackId) as { last: number };
    const id = randomUUID();
    const at = now().toISOString();
    insert.run(
      id,
      input.stackId,
      input.type,
      input.commit,
      input.ref,
      last,
      input.pullRequest?.id ?? null,
      input.pullRequest ? JSON.stringify(input.pullRequest) : null,
      JSON.stringify(input.trigger),
      input.note ?? null,
      at,
      at,
      at,
    );
    return { run: toRun(byId.get(id) as RunRow), created: true };
  });

  // Group commit: the creates asked for in one turn of the event loop (the trigger worker handles many
  // events at once) share one IMMEDIATE transaction, so one fsync of the WAL instead of one each. Every
  // create still resolves only after its commit, so synchronous=FULL keeps its meaning: a run the caller
  // saw created survives a power cut. Each create runs in its own savepoint (a nested better-sqlite3
  // transaction): one that fails is rolled back alone and rejects only its caller.
  type PendingCreate = { input: NewRun; resolve: (r: CreatedRun) => void; reject: (e: unknown) => void };
  let pending: PendingCreate[] = [];
  const createBatch = db.transaction((batch: PendingCreate[]) =>
    batch.map((item): { ok: CreatedRun } | { err: unknown } => {
      try {
        return { ok: createTx(item.input) };
      } catch (err) {
        return { err };
      }
    }),
  );
  const flush = () => {
    const batch = pending;
    pending = [];
    let results: ({ ok: CreatedRun } | { err: unknown })[];
    try {
      results = createBatch.immediate(batch);
    } catch (err) {
      for (const item of batch) item.reject(err);
      return;
    }
    batch.forEach((item, i) => {
      const result = results[i]!;
      if ('ok' in result) item.resolve(result.ok);
      else item.reject(result.err);
    });
  };
  return {
    create(input) {
      return new Promise<CreatedRun>((resolve, reject) => {
        pending.push({ input, resolve, reject });
        if (pending.length === 1) setImmediate(flush);
      });
    },
    async get(id) {
      const row = byId.get(id) as RunRow | undefined;
      return row && toRun(row);
    },
    async find(stackId, commit, type) {
      const row = byKey.get(stackId, commit, type) as RunRow | undefined;
      return row && toRun(row);
    },
    async listByStack(stackId, options = {}) {
      const rows = sql(
        'SELECT * FROM stack_trigger_runs WHERE stack_id = ? ORDER BY sequence DESC LIMIT ?',
      ).all(stackId, options.limit ?? 100) as RunRow[];
      return rows.map(toRun);
    },
    async list(filter) {
      const where: string[] = [];
      const args: unknown[] = [];
      if (filter.stackId !== undefined) {
        where.push('stack_id = ?');
        args.push(filter.stackId);
      }
      if (filter.state !== undefined) {
        where.push('state = ?');
        args.push(filter.state);
      }
      if (filter.before !== undefined) {
        where.push('(created_at < ? OR (created_at = ? AND id < ?))');
        args.push(filter.before.createdAt, filter.before.createdAt, filter.before.id);
      }
      const rows = sql(
        `SELECT * FROM stack_trigger_runs ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`}
           ORDER BY created_at DESC, id DESC LIMIT ?`,
      ).all(...args, filter.limit) as RunRow[];
      return rows.map(toRun);
    },
    async listActive() {
      const rows = sql(
        `SELECT * FROM stack_trigger_runs WHERE state IN ('QUEUED', 'RUNNING') ORDER BY stack_id, sequence`,
      ).all() as RunRow[];
      return rows.map(toRun);
    },
    async transition(id, from, to, note, options = {}): Promise<TransitionResult> {
      if (from.length === 0) return { ok: false, run: await this.get(id) };
      const at = now().toISOString();
      const placeholders = from.map(() => '?').join(', ');
      const row = sql(
        `UPDATE stack_trigger_runs SET state = ?, version = version + 1, note = COALESCE(?, note),
           canceled_by = COALESCE(?, canceled_by), summary = COALESCE(?, summary),
           started_at = CASE WHEN ? = 'RUNNING' THEN ? ELSE started_at END, updated_at = ?, ${APPEND_TRANSITION}
           WHERE id = ? AND state IN (${placeholders}) RETURNING *`,
      ).get(
        to,
        note ?? null,
        options.canceledBy ?? null,
        options.summary === undefined ? null : JSON.stringify(options.summary),
        to,
        at,
        at,
        to,
        at,
        id,
        ...from,
      ) as RunRow | undefined;
      if (row) return { ok: true, run: toRun(row) };
      return { ok: false, run: await this.get(id) };
    },
    async cancelQueued(filter) {
      const at = now().toISOString();
      const rows = sql(
        `UPDATE stack_trigger_runs SET state = 'CANCELED', version = version + 1, note = ?, updated_at = ?,
           ${APPEND_TRANSITION}
           WHERE state = 'QUEUED' AND stack_id = ? RETURNING *`,
      ).all(filter.note, at, 'CANCELED', at, filter.stackId) as RunRow[];
      return rows.map(toRun).sort((a, b) => a.sequence - b.sequence);
    },
    async cancelQueuedProposed(filter) {
      if (filter.stackIds.length === 0) return [];
      const placeholders = filter.stackIds.map(() => '?').join(', ');
      const match = `type = 'proposed' AND pull_request_id = ? AND stack_id IN (${placeholders}) AND commit_sha != ?`;
      const args = [filter.pullRequestId, ...filter.stackIds, filter.exceptCommit ?? ''];
      const at = now().toISOString();
      sql(
        `UPDATE stack_trigger_runs SET state = 'CANCELED', version = version + 1, note = ?, updated_at = ?,
           ${APPEND_TRANSITION}
           WHERE state = 'QUEUED' AND ${match}`,
      ).run(filter.note, at, 'CANCELED', at, ...args);
      const rows = sql(
        `SELECT * FROM stack_trigger_runs WHERE state = 'CANCELED' AND note = ? AND ${match}`,
      ).all(filter.note, ...args) as RunRow[];
      return rows.map(toRun).sort((a, b) => a.sequence - b.sequence);
    },
  };
}

interface RunCommentRow {
  run_id: string;
  comment_id: number;
  comment_version: number;
  run_version: number;
}

function createRunCommentRepository(db: Database.Database, now: () => Date): RunCommentRepositoryPort {
  const byRun = db.prepare('SELECT * FROM stack_trigger_run_comments WHERE run_id = ?');
  const upsert = db.prepare(
    `INSERT INTO stack_trigger_run_comments (run_id, comment_id, comment_version, run_version, updated_at)
     VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (run_id) DO UPDATE SET comment_id = excluded.comment_id,
       comment_version = excluded.comment_version, run_version = excluded.run_version,
       updated_at = excluded.updated_at`,
  );
  return {
    async get(runId) {
      const row = byRun.get(runId) as RunCommentRow | undefined;
      return (
        row && {
          runId: row.run_id,
          commentId: row.comment_id,
          commentVersion: row.comment_version,
          runVersion: row.run_version,
        }
      );
    },
    async save(comment) {
      upsert.run(
        comment.runId,
        comment.commentId,
        comment.commentVersion,
        comment.runVersion,
        now().toISOString(),
      );
    },
  };
}
