import Joi from 'joi';

/**
 * Run logs (docs/architecture.md §4, "Run logs"): what a runner sends with `POST /api/v1/runs/{id}/logs`
 * and what `GET /api/v1/runs/{id}/logs` and its event stream answer. stack-trigger validates requests
 * with these schemas; runners build their bodies to them.
 */
export const LOG_STREAMS = ['stdout', 'stderr', 'system'] as const;
export type LogStream = (typeof LOG_STREAMS)[number];

export const RUN_LOG_LIMITS = {
  /** Chunks in one POST. */
  maxChunksPerRequest: 500,
  /** UTF-8 bytes of one chunk's text. */
  maxChunkBytes: 64 * 1024,
  /** Chunks one GET answers at most (and by default). */
  maxPageChunks: 1000,
  defaultPageChunks: 500,
  /**
   * Body limit of the POST: more than the default per-run cap (5 MiB) could never be stored in one go,
   * so a larger body is refused (413) before it is parsed.
   */
  maxRequestBytes: 8 * 1024 * 1024,
} as const;

/** One piece of a run's output, numbered by the runner from 0, in the order it was written. */
export interface LogChunk {
  seq: number;
  stream: LogStream;
  text: string;
  /** When the runner read it (ISO-8601). */
  at: string;
}

export const logChunkSchema: Joi.ObjectSchema = Joi.object({
  seq: Joi.number().integer().min(0).max(Number.MAX_SAFE_INTEGER).required(),
  stream: Joi.string()
    .valid(...LOG_STREAMS)
    .required(),
  text: Joi.string().allow('').max(RUN_LOG_LIMITS.maxChunkBytes, 'utf8').required(),
  at: Joi.string().isoDate().required(),
});

/** `POST /api/v1/runs/{id}/logs`: 1..500 chunks, seq strictly increasing within the body. */
export interface AppendRunLogRequest {
  chunks: LogChunk[];
}

export const appendRunLogRequestSchema: Joi.ObjectSchema = Joi.object({
  chunks: Joi.array()
    .items(logChunkSchema)
    .min(1)
    .max(RUN_LOG_LIMITS.maxChunksPerRequest)
    .required()
    .custom((chunks: LogChunk[], helpers) => {
      for (let i = 1; i < chunks.length; i++) {
        if (chunks[i]!.seq <= chunks[i - 1]!.seq) return helpers.error('array.seqOrder', { index: i });
      }
      return chunks;
    })
    .messages({
      'array.seqOrder': '"chunks[{{#index}}].seq" must be greater than the seq of the chunk before it',
    }),
})
  .required()
  .label('body');

/**
 * The answer: how many chunks this request added (a seq already stored is skipped, so a retry adds 0),
 * the next seq after the highest one stored, and whether the log reached its cap.
 */
export interface AppendRunLogAnswer {
  stored: number;
  nextSeq: number;
  truncated: boolean;
}

export const appendRunLogAnswerSchema: Joi.ObjectSchema = Joi.object({
  stored: Joi.number().integer().min(0).required(),
  nextSeq: Joi.number().integer().min(0).required(),
  truncated: Joi.boolean().required(),
});

/** `GET /api/v1/runs/{id}/logs?after=&limit=`. */
export interface RunLogPage {
  runId: string;
  chunks: LogChunk[];
  /** The `after` of the next page: the last chunk's seq, or the `after` asked (null: none) when empty. */
  nextAfter: number | null;
  truncated: boolean;
  /** The run is in a final state and nothing is stored after the last chunk answered. */
  complete: boolean;
}

export const runLogPageSchema: Joi.ObjectSchema = Joi.object({
  runId: Joi.string().min(1).required(),
  chunks: Joi.array().items(logChunkSchema).required(),
  nextAfter: Joi.number().integer().min(0).allow(null).required(),
  truncated: Joi.boolean().required(),
  complete: Joi.boolean().required(),
});

/** The paths, relative to `/api/v1/`. */
export const runLogsPath = (runId: string): string => `runs/${encodeURIComponent(runId)}/logs`;
export const runLogStreamPath = (runId: string): string => `${runLogsPath(runId)}/stream`;

/** The events of the stream (`text/event-stream`). */
export const RUN_LOG_STREAM_EVENTS = { chunk: 'chunk', state: 'state', end: 'end' } as const;
