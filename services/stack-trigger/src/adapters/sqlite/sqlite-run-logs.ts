import type Database from 'better-sqlite3';
import type { LogChunk } from '@stacklink/contracts';
import type { RunLogRepositoryPort } from '../../domain/ports';

/**
 * Migration 5: the runs listing's indexes (newest first, per stack, per state), run logs (chunks unique per run and seq, and each run's byte count against the cap) and
 * the runs' state timeline. Runs written before it get QUEUED at creation and, when they moved, their
 * state at their last change.
 */
export const RUN_LOGS_MIGRATION = `
  CREATE TABLE stack_trigger_run_logs (
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    stream TEXT NOT NULL,
    text TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
  ) WITHOUT ROWID;
  CREATE TABLE stack_trigger_run_log_totals (
    run_id TEXT PRIMARY KEY,
    bytes INTEGER NOT NULL,
    truncated INTEGER NOT NULL,
    next_seq INTEGER NOT NULL
  );
  CREATE INDEX stack_trigger_runs_by_time ON stack_trigger_runs (created_at, id);
  CREATE INDEX stack_trigger_runs_by_stack_time ON stack_trigger_runs (stack_id, created_at, id);
  CREATE INDEX stack_trigger_runs_by_state_time ON stack_trigger_runs (state, created_at, id);
  ALTER TABLE stack_trigger_runs ADD COLUMN transitions TEXT;
  UPDATE stack_trigger_runs SET transitions = CASE
      WHEN state = 'QUEUED' THEN json_array(json_object('state', 'QUEUED', 'at', created_at))
      ELSE json_array(json_object('state', 'QUEUED', 'at', created_at), json_object('state', state, 'at', updated_at))
    END;
`;

interface TotalsRow {
  bytes: number;
  truncated: number;
  next_seq: number;
}

interface ChunkRow {
  seq: number;
  stream: LogChunk['stream'];
  text: string;
  at: string;
}

export function createSqliteRunLogs(db: Database.Database): RunLogRepositoryPort {
  const totals = db.prepare(
    'SELECT bytes, truncated, next_seq FROM stack_trigger_run_log_totals WHERE run_id = ?',
  );
  const saveTotals = db.prepare(
    `INSERT INTO stack_trigger_run_log_totals (run_id, bytes, truncated, next_seq) VALUES (?, ?, ?, ?)
     ON CONFLICT (run_id) DO UPDATE SET bytes = excluded.bytes, truncated = excluded.truncated,
       next_seq = excluded.next_seq`,
  );
  const insert = db.prepare(
    'INSERT OR IGNORE INTO stack_trigger_run_logs (run_id, seq, stream, text, at) VALUES (?, ?, ?, ?, ?)',
  );
  const page = db.prepare(
    'SELECT seq, stream, text, at FROM stack_trigger_run_logs WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?',
  );
  // IMMEDIATE: the cap is checked and the chunks written under the write lock, so two replicas
  // appending to the same run at once cannot both fit under it.
  const append = db.transaction(
    (runId: string, chunks: readonly LogChunk[], cap: { maxBytes: number; marker: string }) => {
      const row = totals.get(runId) as TotalsRow | undefined;
      let bytes = row?.bytes ?? 0;
      let truncated = row?.truncated === 1;
      let nextSeq = row?.next_seq ?? 0;
      let stored = 0;
      for (const chunk of chunks) {
        if (truncated) break;
        const size = Buffer.byteLength(chunk.text, 'utf8');
        if (bytes + size > cap.maxBytes) {
          // A seq stored before keeps its chunk; the marker only takes a free one.
          if (insert.run(runId, chunk.seq, 'system', cap.marker, chunk.at).changes === 0) continue;
          truncated = true;
          nextSeq = Math.max(nextSeq, chunk.seq + 1);
          break;
        }
        if (insert.run(runId, chunk.seq, chunk.stream, chunk.text, chunk.at).changes === 0) continue;
        bytes += size;
        stored += 1;
        nextSeq = Math.max(nextSeq, chunk.seq + 1);
      }
      saveTotals.run(runId, bytes, truncated ? 1 : 0, nextSeq);
      return { stored, nextSeq, truncated };
    },
  );
  return {
    async append(runId, chunks, cap) {
      return append.immediate(runId, chunks, cap);
    },
    async read(runId, options) {
      const rows = page.all(runId, options.after ?? -1, options.limit + 1) as ChunkRow[];
      const row = totals.get(runId) as TotalsRow | undefined;
      return {
        chunks: rows
          .slice(0, options.limit)
          .map((r) => ({ seq: r.seq, stream: r.stream, text: r.text, at: r.at })),
        more: rows.length > options.limit,
        truncated: row?.truncated === 1,
      };
    },
  };
}
