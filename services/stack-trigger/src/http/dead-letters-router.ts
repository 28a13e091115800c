import { Joi } from '@stacklink/config';
import { STATUS_UPDATES_QUEUE } from '@stacklink/contracts';
import { createDocumentedRouter, validationError, type DocumentedRouter } from '@stacklink/http';
import { DEAD_LETTER_QUEUES, toParkedMessage, type DeadLettersPort } from '../dead-letter-queues';
import { parkedMessagesSchema, queueDepthsSchema, replayedSchema } from './answers';

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
 * `/internal/v1/dead-letters` and `/internal/v1/queues` (INTERNAL_TOKEN): lists parked messages with
 * their error and attempt count, sends chosen ones (all when `messageIds` is absent) back to their work
 * queue (docs/architecture.md §9), and answers each work queue's depth for `stacklink status`.
 */
export function createDeadLettersRouter(deadLetters: DeadLettersPort): DocumentedRouter {
  const api = createDocumentedRouter();
  api.route<{ queue: string; limit: number }>(
    {
      method: 'get',
      path: '/dead-letters',
      summary: 'The messages parked in a queue, left in place',
      auth: ['internal'],
      query: listQuery,
      responses: {
        200: { description: 'parked messages', schema: parkedMessagesSchema },
        400: validationError('queue'),
      },
    },
    async ({ query }, _req, res) => {
      const parked = await deadLetters.inspectDeadLetters(query.queue, query.limit);
      res.json({ queue: query.queue, messages: parked.map(toParkedMessage) });
    },
  );
  api.route<undefined, { queue: string; messageIds?: string[] }>(
    {
      method: 'post',
      path: '/dead-letters/replay',
      summary: 'Send parked messages back to their work queue as first attempts',
      auth: ['internal'],
      body: replayBody,
      bodyExample: { queue: STATUS_UPDATES_QUEUE, messageIds: ['run-1-v3'] },
      responses: {
        200: { description: 'how many were replayed', schema: replayedSchema },
        400: validationError('queue'),
      },
    },
    async ({ body }, _req, res) => {
      const { replayed } = await deadLetters.replayDeadLetters(
        body.queue,
        body.messageIds === undefined ? {} : { messageIds: body.messageIds },
      );
      res.json({ queue: body.queue, replayed });
    },
  );
  // The work queues' depths and consumers (`stacklink status`): how far behind each role is.
  api.route(
    {
      method: 'get',
      path: '/queues',
      summary: "Each work queue's ready messages, consumers and parked messages",
      auth: ['internal'],
      responses: { 200: { description: 'the work queues', schema: queueDepthsSchema } },
    },
    async (_input, _req, res) => {
      res.json({ queues: await deadLetters.queueDepths() });
    },
  );
  return api;
}
