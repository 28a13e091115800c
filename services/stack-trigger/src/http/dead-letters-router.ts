import { Router } from 'express';
import { Joi } from '@stacklink/config';
import { jsonBody, validateInput } from '@stacklink/http';
import { DEAD_LETTER_QUEUES, toParkedMessage, type DeadLettersPort } from '../dead-letter-queues';

const queue = Joi.string()
  .valid(...DEAD_LETTER_QUEUES)
  .required();
const listQuery = Joi.object({ queue, limit: Joi.number().integer().min(1).max(1000).default(100) }).label(
  'query',
);
const replayBody = Joi.object({
  queue,
  messageIds: Joi.array().items(Joi.string().min(1).max(500)).min(1).max(1000),
}).label('body');

/**
 * `/internal/v1/dead-letters` and `/internal/v1/queues` (INTERNAL_TOKEN): lists parked messages with their error and attempt
 * count, and sends chosen ones (all when `messageIds` is absent) back to their work queue
 * (docs/architecture.md §9).
 */
export function createDeadLettersRouter(deadLetters: DeadLettersPort): Router {
  const router = Router();
  router.get('/dead-letters', async (req, res) => {
    const input = validateInput<{ queue: string; limit: number }>(listQuery, req.query);
    const parked = await deadLetters.inspectDeadLetters(input.queue, input.limit);
    res.json({ queue: input.queue, messages: parked.map(toParkedMessage) });
  });
  router.post('/dead-letters/replay', ...jsonBody(), async (req, res) => {
    const input = validateInput<{ queue: string; messageIds?: string[] }>(replayBody, req.body);
    const { replayed } = await deadLetters.replayDeadLetters(
      input.queue,
      input.messageIds === undefined ? {} : { messageIds: input.messageIds },
    );
    res.json({ queue: input.queue, replayed });
  });
  // The work queues' depths and consumers (`stacklink status`): how far behind each role is.
  router.get('/queues', async (_req, res) => {
    res.json({ queues: await deadLetters.queueDepths() });
  });
  return router;
}
