import { Router } from 'express';
import { AppError } from '@stacklink/errors';
import { validateInput } from '@stacklink/http';
import {
  RUN_LOG_STREAM_EVENTS,
  appendRunLogRequestSchema,
  type AppendRunLogRequest,
} from '@stacklink/contracts';
import type { createAppendRunLog } from '../domain/append-run-log';
import type { createFollowRunLog } from '../domain/follow-run-log';
import type { createReadRunLog } from '../domain/read-run-log';
import type { RunRepositoryPort } from '../domain/ports';
import type { EventStreams } from './event-stream';
import { lastEventIdHeaderSchema, runLogQuerySchema, runLogStreamQuerySchema } from './schemas';

/**
 * `POST /api/v1/runs/{id}/logs`: a runner's chunks (README "Run logs"). One of the routes a runner token
 * may use (docs/architecture.md §12), so it lives apart from the admin-only reads.
 */
export function createRunLogAppendRouter(deps: {
  appendRunLog: ReturnType<typeof createAppendRunLog>;
}): Router {
  const router = Router();
  router.post('/runs/:id/logs', async (req, res) => {
    const input = validateInput<AppendRunLogRequest>(appendRunLogRequestSchema, req.body);
    res.json(await deps.appendRunLog(req.params.id, input.chunks));
  });
  return router;
}

/** `GET /api/v1/runs/{id}/logs?after=&limit=` and its live form, `GET /api/v1/runs/{id}/logs/stream`. */
export function createRunLogReadRouter(deps: {
  runs: RunRepositoryPort;
  readRunLog: ReturnType<typeof createReadRunLog>;
  followRunLog: ReturnType<typeof createFollowRunLog>;
  streams: EventStreams;
  heartbeatMs: number;
}): Router {
  const router = Router();
  router.get('/runs/:id/logs', async (req, res) => {
    const query = validateInput<{ after?: number; limit: number }>(runLogQuerySchema, req.query);
    res.json(await deps.readRunLog(req.params.id, query));
  });
  router.get('/runs/:id/logs/stream', async (req, res) => {
    const query = validateInput<{ after?: number }>(runLogStreamQuerySchema, req.query);
    // A reconnecting browser sends the id of the last chunk it got: it wins over the URL's `after`.
    const { 'Last-Event-ID': lastEventId } = validateInput<{ 'Last-Event-ID'?: number }>(
      lastEventIdHeaderSchema,
      { 'Last-Event-ID': req.headers['last-event-id'] },
    );
    const run = await deps.runs.get(req.params.id);
    if (run === undefined) throw new AppError('RUN.NOT_FOUND', `no run ${req.params.id}`, { status: 404 });
    const stream = deps.streams.open(res, { heartbeatMs: deps.heartbeatMs });
    const follower = deps.followRunLog(run, lastEventId ?? query.after, {
      chunk: (chunk) => stream.send(RUN_LOG_STREAM_EVENTS.chunk, chunk, chunk.seq),
      state: (transition) => stream.send(RUN_LOG_STREAM_EVENTS.state, transition),
      end: (state) => stream.send(RUN_LOG_STREAM_EVENTS.end, { state }),
    });
    void stream.closed.then(() => follower.stop());
    await follower.done;
    stream.close();
  });
  return router;
}
