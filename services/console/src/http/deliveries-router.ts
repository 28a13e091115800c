import { Router, type Request, type Response } from 'express';
import { DELIVERY_OUTCOMES } from '@stacklink/contracts';
import { ApiError, type StacklinkApi } from '../adapters/stacklink-api';
import { html, type Html } from '../views/html';
import { alert, csrfField, field, layout, stateBadge, when } from '../views/layout';
import { Joi, validateForm, type FieldErrors } from './forms';
import type { DeliveryRecordAnswer, DeliveryViewAnswer, StackDecisionAnswer } from '@stacklink/contracts';
import type { ReadGuard } from './viewer-access';

const filterForm = Joi.object({
  integrationId: Joi.string().trim().max(255).allow('').label('integrationId'),
  projectKey: Joi.string()
    .trim()
    .allow('')
    .pattern(/^~?[A-Za-z0-9_]{1,128}$/)
    .label('projectKey')
    .messages({ 'string.pattern.base': 'projectKey must be a project key (letters, digits, _)' }),
  slug: Joi.string()
    .trim()
    .allow('')
    .pattern(/^[A-Za-z0-9._-]{1,128}$/)
    .label('slug')
    .messages({ 'string.pattern.base': 'slug must be a repository slug (letters, digits, . _ -)' }),
  outcome: Joi.string()
    .allow('')
    .valid(...DELIVERY_OUTCOMES)
    .label('outcome'),
  since: Joi.string()
    .allow('')
    .pattern(/^\d{4}-\d{2}-\d{2}$/)
    .custom((value: string, helpers) =>
      value === '' || !Number.isNaN(Date.parse(`${value}T00:00:00Z`))
        ? value
        : helpers.error('string.pattern.base'),
    )
    .label('since')
    .messages({ 'string.pattern.base': 'since must be a date (YYYY-MM-DD)' }),
  cursor: Joi.string().max(1000).allow(''),
});

type Filters = Partial<
  Record<'integrationId' | 'projectKey' | 'slug' | 'outcome' | 'since' | 'cursor', string>
>;

/** A delivery's decisions per stack (docs/architecture.md §13), optionally only some stacks'. */
export function decisionList(
  view: DeliveryViewAnswer,
  only: (s: StackDecisionAnswer) => boolean = () => true,
): Html {
  return html`${view.decisions.map(
    (d) =>
      html`<section class="decision">
        <h3>Decision on event <code>${d.eventId}</code>${d.redeliveryOf && ' (redelivery)'}</h3>
        <ul class="decisions">
          ${d.stacks
            .filter(only)
            .map(
              (s) =>
                html`<li data-stack="${s.stackId}">
                  <strong>${s.stackName ?? s.stackId}</strong>: <span class="outcome">${s.outcome}</span>${
                    s.reason && html` — ${s.reason}`
                  }${s.detail && html` <span class="detail">(${s.detail})</span>`}
                  ${s.runId && html` → <a href="/stacks/${encodeURIComponent(s.stackId)}/runs/${encodeURIComponent(s.runId)}">run ${s.runId.slice(0, 8)}</a>`}
                </li>`,
            )}
        </ul>
      </section>`,
  )}`;
}

export function createDeliveriesRouter(deps: { api: StacklinkApi; guard: ReadGuard }): Router {
  const router = Router();
  const enc = encodeURIComponent;

  router.get('/deliveries', async (req, res) => {
    const raw = req.query as Record<string, string>;
    const form = validateForm<Filters>(filterForm, raw);
    const filters: Filters = form.ok ? form.value : {};
    const errors: FieldErrors = form.ok ? {} : form.errors;
    const query = new URLSearchParams({ limit: '50' });
    for (const [k, v] of Object.entries(filters))
      if (v) query.set(k, k === 'since' ? `${v}T00:00:00.000Z` : v);
    let page: { deliveries: DeliveryRecordAnswer[]; nextCursor?: string } = { deliveries: [] };
    if (form.ok) {
      try {
        page = await deps.api.call('stack-trigger', 'GET', `/deliveries?${query.toString()}`);
      } catch (err) {
        if (!(err instanceof ApiError) || err.status >= 500) throw err;
        for (const f of err.fields)
          errors[f.field.replace(/^query\./, '')] = f.message.replace(/^"([^"]+)"/, '$1');
        if (err.fields.length === 0) errors.form = err.message;
      }
    }
    const nextQuery = new URLSearchParams(
      Object.entries(filters).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''),
    );
    if (page.nextCursor) nextQuery.set('cursor', page.nextCursor);
    res
      .status(Object.keys(errors).length > 0 ? 400 : 200)
      .type('html')
      .send(
        layout({
          title: 'Deliveries',
          session: req.session,
          current: '/deliveries',
          body: html`${alert(errors.form)}
            <form method="get" action="/deliveries" class="filters" id="delivery-filters">
              ${field({ name: 'integrationId', label: 'Integration id', value: raw.integrationId, error: errors.integrationId })}
              ${field({ name: 'projectKey', label: 'Project key', value: raw.projectKey, error: errors.projectKey })}
              ${field({ name: 'slug', label: 'Repository slug', value: raw.slug, error: errors.slug })}
              ${field({ name: 'since', label: 'Since (UTC day)', type: 'date', value: raw.since, error: errors.since })}
              <div class="field${errors.outcome ? ' invalid' : ''}">
                <label for="f-outcome">Outcome</label>
                <select id="f-outcome" name="outcome">
                  <option value="">any</option>
                  ${DELIVERY_OUTCOMES.map((o) => html`<option value="${o}" ${raw.outcome === o && html`selected`}>${o}</option>`)}
                </select>
                ${errors.outcome && html`<p class="error" data-field="outcome">${errors.outcome}</p>`}
              </div>
              <button type="submit">Filter</button>
            </form>
            ${deliveryTable(page.deliveries)}
            ${page.nextCursor && html`<p><a href="/deliveries?${nextQuery.toString()}">Older deliveries</a></p>`}`,
        }),
      );
  });

  const showDelivery = async (req: Request, res: Response, notice?: string) => {
    const view = await deps.api.call<DeliveryViewAnswer>(
      'stack-trigger',
      'GET',
      `/deliveries/${enc(String(req.params.deliveryId))}`,
    );
    const viewer = req.session?.viewer !== undefined && !req.session.signedIn;
    if (viewer) {
      // A viewer sees the decisions on events of repositories they may read; a delivery without an event
      // (refused at the gateway) belongs to no repository they could be shown.
      if (!view.event) throw new ApiError(404, 'CONSOLE.NOT_FOUND', 'not found');
      if (!(await deps.guard(req, res, view.event.repository))) return;
    }
    res.type('html').send(
      layout({
        title: `Delivery ${view.deliveryId}`,
        session: req.session,
        current: viewer ? '/' : '/deliveries',
        body: html`${notice && html`<p class="notice" role="status">${notice}</p>`}
          ${
            view.event &&
            html`<dl class="facts">
              <dt>Event</dt>
              <dd>${view.event.type} — ${view.event.summary}</dd>
              <dt>Repository</dt>
              <dd>${view.event.repository.projectKey}/${view.event.repository.slug}</dd>
            </dl>`
          }
          <h2>Answers</h2>
          ${deliveryTable(view.records, false)}
          <h2>Decisions</h2>
          ${view.decisions.length === 0 ? html`<p>No decision (yet).</p>` : decisionList(view)}
          <h2>Runs</h2>
          <ul>
            ${view.runs.map(
              (r) =>
                html`<li>
                  <a href="/stacks/${enc(r.stackId)}/runs/${enc(r.id)}">${r.id}</a> ${stateBadge(r.state)}
                </li>`,
            )}
          </ul>
          ${
            !viewer &&
            view.records.some((r) => r.outcome === 'accepted') &&
            html`<form method="post" action="/deliveries/${enc(view.deliveryId)}/redeliver" id="redeliver">
              ${csrfField(req.session!)}<button type="submit">Redeliver the event</button>
            </form>`
          }`,
      }),
    );
  };

  router.get('/deliveries/:deliveryId', (req, res) => showDelivery(req, res));

  router.post('/deliveries/:deliveryId/redeliver', async (req, res) => {
    await deps.api.call(
      'stack-trigger',
      'POST',
      `/deliveries/${enc(String(req.params.deliveryId))}/redeliver`,
    );
    await showDelivery(req, res, 'The event was published again; what it was missing is being created.');
  });

  return router;
}

export function deliveryTable(records: DeliveryRecordAnswer[], link = true): Html {
  if (records.length === 0) return html`<p>No delivery.</p>`;
  return html`<table class="deliveries">
    <thead>
      <tr>
        <th scope="col">Received</th>
        <th scope="col">Delivery</th>
        <th scope="col">Event</th>
        <th scope="col">Answer</th>
        <th scope="col">Outcome</th>
        <th scope="col">Reason</th>
      </tr>
    </thead>
    <tbody>
      ${records.map(
        (d) =>
          html`<tr>
            <td>${when(d.receivedAt)}</td>
            <td>
              ${link && d.deliveryId ? html`<a href="/deliveries/${encodeURIComponent(d.deliveryId)}">${d.deliveryId}</a>` : d.deliveryId}
            </td>
            <td>${d.eventKey}</td>
            <td>${d.status}</td>
            <td>${d.outcome}</td>
            <td>${d.reason ?? ''}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}
