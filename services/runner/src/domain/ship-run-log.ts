import { StringDecoder } from 'node:string_decoder';
import { isAppError } from '@stacklink/errors';
import type { Logger } from '@stacklink/logger';
import { RUN_LOG_LIMITS, type LogChunk } from '@stacklink/contracts';
import type { RunsApi } from './ports';

export interface ShipRunLogDeps {
  api: Pick<RunsApi, 'appendLogs'>;
  logger: Logger;
  /** RUNNER_LOG_FLUSH_MS: buffered output is sent at least this often. */
  flushMs: number;
  /** RUNNER_LOG_BUFFER_BYTES: buffered output is sent at once when it reaches this size. */
  bufferBytes: number;
  /** Output kept unsent while stack-trigger does not take it; beyond it output is dropped, and said so. */
  maxPendingBytes?: number;
  /** Tries of the final flush (with doubling pauses from 250 ms) before what is left is given up. */
  finalTries?: number;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
}

export interface RunLogShipper {
  /** Takes output as the command writes it; never waits, never throws. */
  write(stream: 'stdout' | 'stderr', data: Buffer | string): void;
  /** Adds a line of the runner's own (`system`). */
  note(text: string): void;
  /** Sends what is left, retrying a few times with the same seqs; resolves when done or given up. */
  finish(): Promise<void>;
}

// A UTF-16 code unit is at most 3 bytes of UTF-8 (a surrogate pair, 2 units, is 4), so slices of this
// many units always fit one chunk.
const MAX_UNITS = Math.floor(RUN_LOG_LIMITS.maxChunkBytes / 3);

/**
 * Streams a run's output to `POST /api/v1/runs/{id}/logs` while the command runs (README "Run logs"):
 * output is buffered in memory, cut into chunks (one stream each, ≤ 64 KiB) numbered from 0, and sent
 * every `flushMs` or as soon as `bufferBytes` are waiting, one request at a time. A request that fails
 * is sent again with the same seqs (stack-trigger stores each seq once), so nothing is lost or doubled;
 * the command never waits for any of it. A 404 or 409 (`LOGS.RUN_CLOSED`) ends the shipping.
 */
export function createRunLogShipper(runId: string, deps: ShipRunLogDeps): RunLogShipper {
  const now = deps.now ?? (() => new Date());
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const maxPendingBytes = deps.maxPendingBytes ?? 8 * 1024 * 1024;
  const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  let open: LogChunk | undefined;
  let openBytes = 0;
  const unsent: { chunk: LogChunk; bytes: number }[] = [];
  let pendingBytes = 0;
  let droppedBytes = 0;
  let nextSeq = 0;
  let closed = false;
  let sending: Promise<boolean> | undefined;
  let failures = 0;

  const seal = () => {
    if (open === undefined) return;
    unsent.push({ chunk: open, bytes: openBytes });
    open = undefined;
    openBytes = 0;
  };

  const append = (stream: LogChunk['stream'], text: string) => {
    for (let i = 0; i < text.length;) {
      let end = Math.min(text.length, i + MAX_UNITS);
      // Never split a surrogate pair between two chunks.
      if (end < text.length && /[\uD800-\uDBFF]/.test(text[end - 1]!)) end -= 1;
      const piece = text.slice(i, end);
      i = end;
      const bytes = Buffer.byteLength(piece, 'utf8');
      if (open !== undefined && (open.stream !== stream || openBytes + bytes > RUN_LOG_LIMITS.maxChunkBytes))
        seal();
      if (open === undefined) {
        open = { seq: nextSeq++, stream, text: piece, at: now().toISOString() };
        openBytes = bytes;
      } else {
        open.text += piece;
        openBytes += bytes;
      }
      pendingBytes += bytes;
    }
  };

  /** Sends one batch of sealed chunks; true when it went through (or there was nothing to send). */
  const sendBatch = async (): Promise<boolean> => {
    const batch = unsent.slice(0, RUN_LOG_LIMITS.maxChunksPerRequest);
    if (batch.length === 0 || closed) return true;
    try {
      const answer = await deps.api.appendLogs(
        runId,
        batch.map((b) => b.chunk),
      );
      unsent.splice(0, batch.length);
      pendingBytes -= batch.reduce((sum, b) => sum + b.bytes, 0);
      failures = 0;
      if (answer === 'closed') {
        deps.logger.info('run log closed by stack-trigger: output no longer sent', { runId });
        stop();
      }
      return true;
    } catch (err) {
      failures += 1;
      // Said once per outage, not per flush.
      if (failures === 1 || !isAppError(err) || !err.retryable)
        deps.logger.warn('run log not sent; will send it again', { runId, err });
      if (isAppError(err) && !err.retryable) stop();
      return false;
    }
  };

  const stop = () => {
    closed = true;
    unsent.length = 0;
    open = undefined;
    pendingBytes = 0;
  };

  /** Seals the open chunk and sends until nothing is left or a request fails; one flush at a time. */
  const flush = (): Promise<boolean> => {
    if (sending) return sending;
    const current = (async () => {
      seal();
      while (unsent.length > 0 && !closed) if (!(await sendBatch())) return false;
      if (droppedBytes > 0 && !closed) {
        note(`… ${droppedBytes} bytes of output dropped: stack-trigger did not take the log in time …`);
        droppedBytes = 0;
        return sendBatch();
      }
      return true;
    })().finally(() => {
      // Cleared after the assignment below even when there was nothing to send (no await above).
      if (sending === current) sending = undefined;
    });
    sending = current;
    return current;
  };

  const note = (text: string) => {
    if (closed) return;
    seal();
    append('system', text.endsWith('\n') ? text : `${text}\n`);
    seal();
  };

  const timer = setInterval(() => void flush(), deps.flushMs);

  const take = (stream: 'stdout' | 'stderr', text: string) => {
    if (closed || text === '') return;
    const bytes = Buffer.byteLength(text, 'utf8');
    if (pendingBytes + bytes > maxPendingBytes) {
      droppedBytes += bytes;
      return;
    }
    append(stream, text);
    if (pendingBytes >= deps.bufferBytes) void flush();
  };

  return {
    write(stream, data) {
      take(stream, typeof data === 'string' ? data : decoders[stream].write(data));
    },
    note,
    async finish() {
      clearInterval(timer);
      for (const stream of ['stdout', 'stderr'] as const) take(stream, decoders[stream].end());
      const tries = deps.finalTries ?? 5;
      for (let n = 1; ; n++) {
        if (sending) await sending;
        if (await flush()) return;
        if (n >= tries) break;
        await sleep(250 * 2 ** (n - 1));
      }
      const lost = unsent.length + (open === undefined ? 0 : 1);
      if (lost > 0)
        deps.logger.warn('run log incomplete: stack-trigger did not take its end', { runId, chunks: lost });
      stop();
    },
  };
}
