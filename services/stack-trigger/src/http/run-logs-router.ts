import { AppError } from '@stacklink/errors';
import {
  createDocumentedRouter,
  errorResponse,
  validateInput,
  validationError,
  type DocumentedRouter,
} from '@stacklink/http';
import {
  RUN_LOG_STREAM_EVENTS,
  appendRunLogAnswerSchema,
  appendRunLogRequestSchema,
  runLogPageSchema,
  type AppendRunLogRequest,
} from '@stacklink/contracts';
import type { createAppendRunLog } from '../domain/append-run-log';
import type { createFollowRunLog } from '../domain/follow-run-log';
import type { createReadRunLog } from '../domain/read-run-log';
import type { RunRepositoryPort } from '../domain/ports';
import { runNotFound } from './answers';
import type { EventStreams } from './event-stream';
import { lastEventIdHeaderSchema, runLogQuerySchema, runLogStreamQuerySchema } from './schemas';

const chunkExample = {
  seq: 0,
  stream: 'stdout',
  text: 'Plan: 1 to add, 0 to change, 0 to destroy.\n',
  at: '2026-01-01T00:00:01.000Z',
};

/**
 * `POST /api/v1/runs/{id}/logs`: a runner's chunks (README "Run logs"). One of the routes a runner token
 * may use (docs/architecture.md §12), so it lives apart from the admin-only reads.
 */
export function createRunLogAppendRouter(deps: {
  appendRunLog: ReturnType<typeof createAppendRunLog>;
}): DocumentedRouter {
  const api = createDocumentedRouter();
  api.route<undefined, AppendRunLogRequest>(
    {
      method: 'post',
      path: '/runs/:id/logs',
      summary: "A runner's log chunks, in order; a seq already stored is skipped (retry-safe)",
      auth: ['admin', 'runner'],
      body: appendRunLogRequestSchema,
      bodyExample: { chunks: [chunkExample] },
      responses: {
        200: {
          description: 'what was stored; `truncated` once the run reached RUN_LOG_MAX_BYTES',
          schema: appendRunLogAnswerSchema,
          example: { stored: 1, nextSeq: 1, truncated: false },
        },
        400: validationError('chunks'),
        404: runNotFound,
        409: errorResponse(
          'the run has been final for longer than RUN_LOG_GRACE_SECONDS',
          'LOGS.RUN_CLOSED',
          'run x is closed for logs',
        ),
        413: errorResponse(
          'the body is larger than 8 MiB',
          'HTTP.BODY_TOO_LARGE',
          'request body exceeds the limit of 8388608 bytes',
        ),
      },
    },
    async ({ params, body }, _req, res) => {
      res.json(await deps.appendRunLog(params.id!, body.chunks));
    },
  );
  return api;
}

/** `GET /api/v1/runs/{id}/logs?after=&limit=` and its live form, `GET /api/v1/runs/{id}/logs/stream`. */
export function createRunLogReadRouter(deps: {
  runs: RunRepositoryPort;
  readRunLog: ReturnType<typeof createReadRunLog>;
  followRunLog: ReturnType<typeof createFollowRunLog>;
  streams: EventStreams;
  heartbeatMs: number;
}): DocumentedRouter {
  const api = createDocumentedRouter();
  api.route<{ after?: number; limit: number }>(
    {
      method: 'get',
      path: '/runs/:id/logs',
      summary: "A page of a run's log, after a seq",
      auth: ['admin'],
      query: runLogQuerySchema,
      responses: {
        200: {
          description: '`complete` once the run is final and nothing follows the last chunk',
          schema: runLogPageSchema,
          example: {
            runId: '9b8a7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d',
            chunks: [chunkExample],
            nextAfter: 0,
            truncated: false,
            complete: false,
          },
        },
        400: validationError('after'),
        404: runNotFound,
      },
    },
    async ({ params, query }, _req, res) => {
      res.json(await deps.readRunLog(params.id!, query));
    },
  );
  api.route<{ after?: number }>(
    {
      method: 'get',
      path: '/runs/:id/logs/stream',
      summary: "A run's log as server-sent events: chunk (id = seq), state, end; honours Last-Event-ID",
      auth: ['admin'],
      query: runLogStreamQuerySchema,
      responses: {
        200: {
          description: 'the event stream, open until the run is final',
          contentType: 'text/event-stream',
        },
        400: validationError('after'),
        404: runNotFound,
      },
    },
    async ({ params, query }, req, res) => {
      // A reconnecting browser sends the id of the last chunk it got: it wins over the URL's `after`.
      const { 'Last-Event-ID': lastEventId } = validateInput<{ 'Last-Event-ID'?: number }>(
        lastEventIdHeaderSchema,
        { 'Last-Event-ID': req.headers['last-event-id'] },
      );
      const run = await deps.runs.get(params.id!);
      if (run === undefined) throw new AppError('RUN.NOT_FOUND', `no run ${params.id}`, { status: 404 });
      const stream = deps.streams.open(res, { heartbeatMs: deps.heartbeatMs });
      const follower = deps.followRunLog(run, lastEventId ?? query.after, {
        chunk: (chunk) => stream.send(RUN_LOG_STREAM_EVENTS.chunk, chunk, chunk.seq),
        state: (transition) => stream.send(RUN_LOG_STREAM_EVENTS.state, transition),
        end: (state) => stream.send(RUN_LOG_STREAM_EVENTS.end, { state }),
      });
      void stream.closed.then(() => follower.stop());
      await follower.done;
      stream.close();
    },
  );
  return api;
}
