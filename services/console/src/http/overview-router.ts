import { Router, type Request, type Response } from 'express';
import { RUNS_READY_QUEUE, STATUS_UPDATES_QUEUE, VCS_EVENTS_QUEUE } from '@stacklink/contracts';
import { ApiError, type StacklinkApi } from '../adapters/stacklink-api';
import { html } from '../views/html';
import { alert, csrfField, layout, when } from '../views/layout';
import { runTable } from '../views/run-table';
import { deliveryTable } from './deliveries-router';
import { Joi, validateForm, type FieldErrors } from './forms';
import type { ParkedMessageAnswer, RunViewAnswer, StackAnswer } from '@stacklink/contracts';

/** The queues that park messages (docs/architecture.md §9), as stack-trigger's dead-letter API names them. */
const DEAD_LETTER_QUEUES = [VCS_EVENTS_QUEUE, STATUS_UPDATES_QUEUE, RUNS_READY_QUEUE] as const;

/** Outcomes of a webhook delivery that Bitbucket's sender (or the setup) should look at. */
const HEALTHY_OUTCOMES = new Set(['accepted', 'duplicate', 'ping', 'ignored']);

const replayForm = Joi.object({
  queue: Joi.string()
    .valid(...DEAD_LETTER_QUEUES)
    .required()
    .label('queue'),
  messageId: Joi.string().trim().min(1).max(500).label('messageId'),
}).messages({
  'any.required': '{{#label}} is required',
  'any.only': '{{#label}} must be one of {{#valids}}',
});

export function createOverviewRouter(deps: { api: StacklinkApi }): Router {
  const router = Router();
  const enc = encodeURIComponent;
  const parked = (queue: string) =>
    deps.api.call<{ messages: ParkedMessageAnswer[] }>(
      'stack-trigger-internal',
      'GET',
      `/dead-letters?queue=${enc(queue)}&limit=100`,
    );

  /** The most recent runs: the runs listing when stack-trigger has it, else each stack's latest. */
  const recentRuns = async (): Promise<RunViewAnswer[]> => {
    try {
      return (await deps.api.call<{ runs: RunViewAnswer[] }>('stack-trigger', 'GET', '/runs?limit=20')).runs;
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 404) throw err;
    }
    const { stacks } = await deps.api.call<{ stacks: StackAnswer[] }>('stack-trigger', 'GET', '/stacks');
    const all = await Promise.all(
      stacks.map(
        async (s) =>
          (
            await deps.api.call<{ runs: RunViewAnswer[] }>(
              'stack-trigger',
              'GET',
              `/stacks/${enc(s.id)}/runs?limit=20`,
            )
          ).runs,
      ),
    );
    return all
      .flat()
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .slice(0, 20);
  };

  router.get('/', async (req, res) => {
    const [runs, deliveries, counts] = await Promise.all([
      recentRuns(),
      deps.api.call<{ deliveries: Parameters<typeof deliveryTable>[0] }>(
        'stack-trigger',
        'GET',
        '/deliveries?limit=200',
      ),
      Promise.all(DEAD_LETTER_QUEUES.map(async (q) => [q, (await parked(q)).messages.length] as const)),
    ]);
    const failing = deliveries.deliveries.filter((d) => !HEALTHY_OUTCOMES.has(d.outcome)).slice(0, 10);
    res.type('html').send(
      layout({
        title: 'Overview',
        session: req.session,
        current: '/',
        body: html`<h2>Recent runs</h2>
          ${runTable(runs, 'recent-runs')}
          <h2>Failing webhooks</h2>
          ${failing.length === 0 ? html`<p>No refused delivery among the latest 200.</p>` : deliveryTable(failing)}
          <h2>Dead letters</h2>
          <ul id="dead-letter-counts">
            ${counts.map(
              ([q, n]) =>
                html`<li><a href="/dead-letters#${q}">${q}</a>: ${n === 100 ? '100 or more' : n}</li>`,
            )}
          </ul>`,
      }),
    );
  });

  const showDeadLetters = async (
    req: Request,
    res: Response,
    status: number,
    errors: FieldErrors = {},
    notice?: string,
  ) => {
    const queues = await Promise.all(
      DEAD_LETTER_QUEUES.map(async (q) => [q, (await parked(q)).messages] as const),
    );
    const replay = (queue: string, messageId: string | undefined, label: string) =>
      html`<form method="post" action="/dead-letters/replay" class="inline">
        ${csrfField(req.session!)}
        <input type="hidden" name="queue" value="${queue}" />
        ${messageId !== undefined && html`<input type="hidden" name="messageId" value="${messageId}" />`}
        <button type="submit">${label}</button>
      </form>`;
    res
      .status(status)
      .type('html')
      .send(
        layout({
          title: 'Dead letters',
          session: req.session,
          current: '/dead-letters',
          body: html`${alert(errors.form ?? errors.queue ?? errors.messageId)}
            ${notice && html`<p class="notice" role="status" id="replay-result">${notice}</p>`}
            <p>
              Messages that kept failing are parked here with their error; replay sends them back to their
              queue (every consumer is idempotent).
            </p>
            ${queues.map(
              ([queue, messages]) =>
                html`<section id="${queue}">
                  <h2>${queue}</h2>
                  ${
                    messages.length === 0
                      ? html`<p>Nothing parked.</p>`
                      : html`${replay(queue, undefined, `Replay all ${messages.length}`)}
                          <table>
                            <thead>
                              <tr>
                                <th scope="col">Message</th>
                                <th scope="col">Error</th>
                                <th scope="col">Attempts</th>
                                <th scope="col">First failed</th>
                                <th scope="col"></th>
                              </tr>
                            </thead>
                            <tbody>
                              ${messages.map(
                                (m) =>
                                  html`<tr>
                                    <td><code>${m.messageId ?? '—'}</code><br />${m.routingKey ?? ''}</td>
                                    <td>${m.errorCode ?? ''} ${m.errorMessage ?? ''}</td>
                                    <td>${m.attempts ?? ''}</td>
                                    <td>${when(m.firstFailedAt)}</td>
                                    <td>
                                      ${m.messageId !== undefined && replay(queue, m.messageId, 'Replay')}
                                    </td>
                                  </tr>`,
                              )}
                            </tbody>
                          </table>`
                  }
                </section>`,
            )}`,
        }),
      );
  };

  router.get('/dead-letters', (req, res) => showDeadLetters(req, res, 200));

  router.post('/dead-letters/replay', async (req, res) => {
    const form = validateForm<{ queue: string; messageId?: string }>(replayForm, req.body);
    if (!form.ok) {
      await showDeadLetters(req, res, 400, form.errors);
      return;
    }
    const { replayed } = await deps.api.call<{ replayed: number }>(
      'stack-trigger-internal',
      'POST',
      '/dead-letters/replay',
      {
        queue: form.value.queue,
        ...(form.value.messageId === undefined ? {} : { messageIds: [form.value.messageId] }),
      },
    );
    await showDeadLetters(
      req,
      res,
      200,
      {},
      `Replayed ${replayed} message${replayed === 1 ? '' : 's'} of ${form.value.queue}.`,
    );
  });

  return router;
}
