import type { Connection } from 'mongoose';
import type { LogChunk } from '@stacklink/contracts';
import type { RunLogRepositoryPort } from '../../domain/ports';

interface ChunkDoc extends LogChunk {
  runId: string;
}

interface TotalsDoc {
  _id: string;
  bytes: number;
  truncated: boolean;
  nextSeq: number;
}

export const RUN_LOG_COLLECTIONS = ['stack_trigger_run_logs', 'stack_trigger_run_log_totals'] as const;

function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: number }).code === 11000;
}

/**
 * Run logs in MongoDB: the same behaviour as the SQLite tables. Chunks are unique per (run, seq) by
 * index; the cap is a conditional `$inc` on the run's totals, so concurrent appends on several replicas
 * never store past it (a chunk whose seq turns out taken gives its bytes back).
 */
export async function createMongoRunLogs(connection: Connection): Promise<RunLogRepositoryPort> {
  const chunks = connection.collection<ChunkDoc>('stack_trigger_run_logs');
  const totals = connection.collection<TotalsDoc>('stack_trigger_run_log_totals');
  await chunks.createIndexes([{ key: { runId: 1, seq: 1 }, unique: true }]);

  /** Inserts a chunk; false when the run has that seq already. */
  async function insert(doc: ChunkDoc): Promise<boolean> {
    try {
      await chunks.insertOne({ ...doc });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  return {
    async append(runId, input, cap) {
      await totals.updateOne(
        { _id: runId },
        { $setOnInsert: { bytes: 0, truncated: false, nextSeq: 0 } },
        { upsert: true },
      );
      let stored = 0;
      for (const chunk of input) {
        if (await chunks.findOne({ runId, seq: chunk.seq }, { projection: { _id: 1 } })) continue;
        const size = Buffer.byteLength(chunk.text, 'utf8');
        const reserved = await totals.findOneAndUpdate(
          { _id: runId, truncated: false, bytes: { $lte: cap.maxBytes - size } },
          { $inc: { bytes: size } },
        );
        if (reserved === null) {
          // Over the cap (or truncated meanwhile): whoever flips the flag writes the one marker.
          const flipped = await totals.findOneAndUpdate(
            { _id: runId, truncated: false },
            { $set: { truncated: true }, $max: { nextSeq: chunk.seq + 1 } },
          );
          if (flipped !== null)
            await insert({ runId, seq: chunk.seq, stream: 'system', text: cap.marker, at: chunk.at });
          break;
        }
        const { seq, stream, text, at } = chunk;
        if (await insert({ runId, seq, stream, text, at })) {
          stored += 1;
          await totals.updateOne({ _id: runId }, { $max: { nextSeq: seq + 1 } });
        } else {
          await totals.updateOne({ _id: runId }, { $inc: { bytes: -size } });
        }
      }
      const after = await totals.findOne({ _id: runId });
      return { stored, nextSeq: after?.nextSeq ?? 0, truncated: after?.truncated ?? false };
    },
    async read(runId, options) {
      const docs = await chunks
        .find({ runId, seq: { $gt: options.after ?? -1 } })
        .sort({ seq: 1 })
        .limit(options.limit + 1)
        .toArray();
      const total = await totals.findOne({ _id: runId });
      return {
        chunks: docs
          .slice(0, options.limit)
          .map((d) => ({ seq: d.seq, stream: d.stream, text: d.text, at: d.at })),
        more: docs.length > options.limit,
        truncated: total?.truncated ?? false,
      };
    },
  };
}
