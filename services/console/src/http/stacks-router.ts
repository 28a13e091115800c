import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Router, type Request, type Response } from 'express';
import type { RunLogPage } from '@stacklink/contracts';
import { ApiError, type StacklinkApi } from '../adapters/stacklink-api';
import { html, type Html } from '../views/html';
import { alert, checkbox, csrfField, field, layout, stateBadge, when } from '../views/layout';
import { runTable } from '../views/run-table';
import { apiFieldErrors, checkboxField, Joi, listField, validateForm, type FieldErrors } from './forms';
import { decisionList } from './deliveries-router';
import type { DeliveryViewAnswer, IntegrationAnswer, RunViewAnswer, StackAnswer } from '@stacklink/contracts';
import type { AccessWatch, ReadGuard } from './viewer-access';

const FINAL = ['FINISHED', 'FAILED', 'CANCELED'];

const settingsFields = {
  branch: Joi.string().trim().min(1).max(255).required().label('branch'),
  projectRoot: Joi.string().trim().max(500).allow('').label('projectRoot'),
  additionalProjectGlobs: listField.label('additionalProjectGlobs'),
  labels: listField.label('labels'),
  triggerOnTags: checkboxField,
  allowForks: checkboxField,
};
const messages = { 'any.required': '{{#label}} is required', 'string.empty': '{{#label}} is required' };

const createForm = Joi.object({
  name: Joi.string().trim().min(1).max(100).required().label('name'),
  integrationId: Joi.string().min(1).max(100).required().label('integrationId'),
  repository: Joi.string()
    .pattern(/^~?[A-Za-z0-9_]{1,128}\/[A-Za-z0-9._-]{1,128}$/)
    .required()
    .label('repository')
    .messages({ 'string.pattern.base': 'repository must be picked from the list' }),
  ...settingsFields,
}).messages(messages);

const editForm = Joi.object(settingsFields).messages(messages);

const triggerForm = Joi.object({
  commit: Joi.string()
    .trim()
    .pattern(/^([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/)
    .required()
    .label('commit')
    .messages({ 'string.pattern.base': 'commit must be a full commit hash (40 or 64 hex digits)' }),
  type: Joi.string().valid('tracked', 'proposed').default('tracked').label('type'),
}).messages(messages);

type Settings = {
  branch: string;
  projectRoot: string;
  additionalProjectGlobs: string[];
  labels: string[];
  triggerOnTags: boolean;
  allowForks: boolean;
};

/** API field paths onto form fields: `repository.slug` → `repository`. */
const fieldOf = (path: string) => path.split('.')[0]!;

export function createStacksRouter(deps: {
  api: StacklinkApi;
  guard: ReadGuard;
  watch: AccessWatch;
}): Router {
  const router = Router();
  const st = <T>(method: string, path: string, body?: unknown) =>
    deps.api.call<T>('stack-trigger', method, path, body);
  const enc = encodeURIComponent;

  router.get('/stacks', async (req, res) => {
    const { stacks } = await st<{ stacks: StackAnswer[] }>('GET', '/stacks');
    res.type('html').send(
      layout({
        title: 'Stacks',
        session: req.session,
        current: '/stacks',
        body: html`<p><a class="button" href="/stacks/new">New stack</a></p>
          ${
            stacks.length === 0
              ? html`<p>No stack yet.</p>`
              : html`<table>
                  <thead>
                    <tr>
                      <th scope="col">Name</th>
                      <th scope="col">Repository</th>
                      <th scope="col">Branch</th>
                      <th scope="col">Root</th>
                      <th scope="col">Status</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${stacks.map(
                      (s) =>
                        html`<tr>
                          <td><a href="/stacks/${enc(s.id)}">${s.name}</a></td>
                          <td>${s.repository.projectKey}/${s.repository.slug}</td>
                          <td>${s.branch}</td>
                          <td>${s.projectRoot || '(whole repository)'}</td>
                          <td>${s.enabled ? 'enabled' : 'disabled'}</td>
                        </tr>`,
                    )}
                  </tbody>
                </table>`
          }`,
      }),
    );
  });

  const newForm = async (req: Request, res: Response, status: number, errors: FieldErrors = {}) => {
    const v = { ...(req.query as Record<string, string>), ...((req.body ?? {}) as Record<string, string>) };
    const { integrations } = await deps.api.call<{ integrations: IntegrationAnswer[] }>(
      'integration',
      'GET',
      '/integrations',
    );
    const integrationId = typeof v.integrationId === 'string' ? v.integrationId : '';
    const chosen = integrations.find((i) => i.id === integrationId);
    let repositories: { projectKey: string; slug: string; name: string }[] = [];
    let listProblem: string | undefined;
    if (chosen) {
      const filter = typeof v.filter === 'string' ? v.filter : '';
      try {
        repositories = (
          await deps.api.call<{ values: typeof repositories }>(
            'integration',
            'GET',
            `/integrations/${enc(chosen.id)}/repositories?limit=100&filter=${enc(filter)}`,
          )
        ).values;
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        listProblem = `The repositories could not be listed: ${err.message}`;
      }
    }
    const body = !chosen
      ? html`<form method="get" action="/stacks/new" id="pick-integration">
          <div class="field${errors.integrationId ? ' invalid' : ''}">
            <label for="f-integrationId">Integration</label>
            <select id="f-integrationId" name="integrationId" required>
              ${integrations.map((i) => html`<option value="${i.id}">${i.name} (${i.userFacingHost})</option>`)}
            </select>
            ${errors.integrationId && html`<p class="error" data-field="integrationId">${errors.integrationId}</p>`}
          </div>
          ${
            integrations.length === 0
              ? html`<p>Create an <a href="/integrations/new">integration</a> first.</p>`
              : html`<button type="submit">Next: pick the repository</button>`
          }
        </form>`
      : html`${alert(errors.form ?? listProblem)}
          <form method="get" action="/stacks/new" class="inline" id="filter-repositories">
            <input type="hidden" name="integrationId" value="${chosen.id}" />
            <label for="f-filter">Filter repositories</label>
            <input id="f-filter" name="filter" value="${v.filter ?? ''}" />
            <button type="submit">Filter</button>
          </form>
          <form method="post" action="/stacks" id="stack-form" novalidate>
            ${csrfField(req.session!)}
            <input type="hidden" name="integrationId" value="${chosen.id}" />
            <p>Integration: <strong>${chosen.name}</strong></p>
            ${field({ name: 'name', label: 'Name', value: v.name, error: errors.name, required: true })}
            <div class="field${errors.repository ? ' invalid' : ''}">
              <label for="f-repository">Repository</label>
              <select
                id="f-repository"
                name="repository"
                ${errors.repository && html`aria-invalid="true" aria-describedby="f-repository-error"`}
              >
                <option value="">— pick a repository —</option>
                ${repositories.map((r) => {
                  const value = `${r.projectKey}/${r.slug}`;
                  return html`<option value="${value}" ${v.repository === value && html`selected`}>
                    ${value} — ${r.name}
                  </option>`;
                })}
              </select>
              ${
                errors.repository &&
                html`<p class="error" id="f-repository-error" data-field="repository">
                  ${errors.repository}
                </p>`
              }
            </div>
            ${settingsFieldset(v, errors)}
            <button type="submit">Create stack</button>
          </form>`;
    res
      .status(status)
      .type('html')
      .send(layout({ title: 'New stack', session: req.session, current: '/stacks', body }));
  };

  router.get('/stacks/new', (req, res) => newForm(req, res, 200));

  router.post('/stacks', async (req, res) => {
    const form = validateForm<Settings & { name: string; integrationId: string; repository: string }>(
      createForm,
      req.body,
    );
    if (!form.ok) {
      await newForm(req, res, 400, form.errors);
      return;
    }
    const { repository, ...rest } = form.value;
    const [projectKey, slug] = repository.split('/') as [string, string];
    try {
      const created = await st<StackAnswer>('POST', '/stacks', {
        ...rest,
        repository: { projectKey, slug },
      });
      res.redirect(303, `/stacks/${enc(created.id)}`);
    } catch (err) {
      if (err instanceof ApiError && err.status < 500) {
        await newForm(req, res, 400, apiFieldErrors(err, fieldOf));
        return;
      }
      throw err;
    }
  });

  const showStack = async (
    req: Request,
    res: Response,
    status: number,
    options: { errors?: FieldErrors; triggerErrors?: FieldErrors; notice?: string } = {},
  ) => {
    const id = String(req.params.id);
    const stack = await st<StackAnswer>('GET', `/stacks/${enc(id)}`);
    const { runs } = await st<{ runs: RunViewAnswer[] }>('GET', `/stacks/${enc(id)}/runs?limit=20`);
    const posted = (req.body ?? {}) as Record<string, string>;
    const editValues = options.errors
      ? posted
      : {
          branch: stack.branch,
          projectRoot: stack.projectRoot,
          additionalProjectGlobs: stack.additionalProjectGlobs.join(', '),
          labels: stack.labels.join(', '),
          triggerOnTags: stack.triggerOnTags ? 'on' : '',
          allowForks: stack.allowForks ? 'on' : '',
        };
    const te = options.triggerErrors ?? {};
    res
      .status(status)
      .type('html')
      .send(
        layout({
          title: `Stack ${stack.name}`,
          session: req.session,
          current: '/stacks',
          body: html`${options.notice && html`<p class="notice" role="status">${options.notice}</p>`}
            <dl class="facts">
              <dt>Repository</dt>
              <dd>${stack.repository.projectKey}/${stack.repository.slug}</dd>
              <dt>Status</dt>
              <dd id="stack-status">
                ${stack.enabled ? 'enabled' : `disabled${stack.disabledReason ? ` (${stack.disabledReason})` : ''}`}
              </dd>
            </dl>
            <form method="post" action="/stacks/${enc(id)}/enabled" class="inline" id="toggle-stack">
              ${csrfField(req.session!)}
              <input type="hidden" name="enabled" value="${stack.enabled ? 'false' : 'true'}" />
              <button type="submit">${stack.enabled ? 'Disable stack' : 'Enable stack'}</button>
            </form>
            <h2>Runs</h2>
            ${runTable(runs, 'runs')}
            <h2>Trigger a run</h2>
            ${alert(te.form)}
            <form method="post" action="/stacks/${enc(id)}/runs" id="trigger-run" novalidate>
              ${csrfField(req.session!)}
              ${field({ name: 'commit', label: 'Commit', value: posted.commit, error: te.commit, required: true })}
              <div class="field">
                <label for="f-type">Type</label>
                <select id="f-type" name="type">
                  <option value="tracked">tracked</option>
                  <option value="proposed">proposed</option>
                </select>
              </div>
              <button type="submit">Trigger run</button>
            </form>
            <h2>Settings</h2>
            ${alert(options.errors?.form)}
            <form method="post" action="/stacks/${enc(id)}" id="edit-stack" novalidate>
              ${csrfField(req.session!)} ${settingsFieldset(editValues, options.errors ?? {})}
              <button type="submit">Save settings</button>
            </form>`,
        }),
      );
  };

  router.get('/stacks/:id', (req, res) => showStack(req, res, 200));

  router.post('/stacks/:id', async (req, res) => {
    const form = validateForm<Settings>(editForm, req.body);
    if (!form.ok) {
      await showStack(req, res, 400, { errors: form.errors });
      return;
    }
    try {
      await st('PATCH', `/stacks/${enc(String(req.params.id))}`, form.value);
    } catch (err) {
      if (err instanceof ApiError && err.status === 400) {
        await showStack(req, res, 400, { errors: apiFieldErrors(err, fieldOf) });
        return;
      }
      throw err;
    }
    res.redirect(303, `/stacks/${enc(String(req.params.id))}`);
  });

  router.post('/stacks/:id/enabled', async (req, res) => {
    const form = validateForm<{ enabled: boolean }>(
      Joi.object({ enabled: Joi.boolean().required().label('enabled') }),
      req.body,
    );
    if (!form.ok) {
      await showStack(req, res, 400, { errors: form.errors });
      return;
    }
    await st('PATCH', `/stacks/${enc(String(req.params.id))}`, { enabled: form.value.enabled });
    res.redirect(303, `/stacks/${enc(String(req.params.id))}`);
  });

  router.post('/stacks/:id/runs', async (req, res) => {
    const form = validateForm<{ commit: string; type: string }>(triggerForm, req.body);
    if (!form.ok) {
      await showStack(req, res, 400, { triggerErrors: form.errors });
      return;
    }
    let run: RunViewAnswer;
    try {
      run = await st<RunViewAnswer>('POST', `/stacks/${enc(String(req.params.id))}/runs`, form.value);
    } catch (err) {
      if (err instanceof ApiError && err.status < 500 && err.status !== 404) {
        await showStack(req, res, 400, { triggerErrors: apiFieldErrors(err, fieldOf) });
        return;
      }
      throw err;
    }
    res.redirect(303, `/stacks/${enc(String(req.params.id))}/runs/${enc(run.id)}`);
  });

  /** The run of this stack, or a 404 (a run id under another stack's path is not found either). */
  const runOf = async (stackId: string, runId: string) => {
    const run = await st<RunViewAnswer>('GET', `/runs/${enc(runId)}`);
    if (run.stackId !== stackId) throw new ApiError(404, 'RUN.NOT_FOUND', `no run ${runId} in this stack`);
    return run;
  };

  router.get('/stacks/:id/runs/:runId', async (req, res) => {
    const stackId = String(req.params.id);
    const run = await runOf(stackId, String(req.params.runId));
    const stack = await st<StackAnswer>('GET', `/stacks/${enc(stackId)}`);
    if (!(await deps.guard(req, res, stack.repository))) return;
    const viewer = req.session?.viewer !== undefined && !req.session.signedIn;
    const integration = await deps.api
      .call<IntegrationAnswer>('integration', 'GET', `/integrations/${enc(stack.integrationId)}`)
      .catch(() => undefined);
    const log = await st<RunLogPage>('GET', `/runs/${enc(run.id)}/logs?limit=1000`).catch((err: unknown) => {
      if (err instanceof ApiError) return undefined;
      throw err;
    });
    const delivery =
      run.trigger.deliveryId === undefined
        ? undefined
        : await st<DeliveryViewAnswer>('GET', `/deliveries/${enc(run.trigger.deliveryId)}`).catch(
            () => undefined,
          );
    const links = bitbucketLinks(run, stack, integration);
    const transitions = run.transitions ?? [{ state: run.state, at: run.updatedAt }];
    const chunks = log?.chunks ?? [];
    const after = chunks.length === 0 ? -1 : chunks[chunks.length - 1]!.seq;
    const complete = FINAL.includes(run.state) && (log === undefined || log.complete);
    const streamPath = `/stacks/${enc(stackId)}/runs/${enc(run.id)}/log/stream`;
    res.type('html').send(
      layout({
        title: `Run ${run.id.slice(0, 8)} of ${stack.name}`,
        session: req.session,
        current: viewer ? '/' : '/stacks',
        script: '/assets/live-log.js',
        body: html`<dl class="facts">
            <dt>State</dt>
            <dd>${stateBadge(run.state, 'run-state')}</dd>
            <dt>Stack</dt>
            <dd>${viewer ? stack.name : html`<a href="/stacks/${enc(stack.id)}">${stack.name}</a>`}</dd>
            <dt>Type</dt>
            <dd>${run.type}</dd>
            <dt>Commit</dt>
            <dd>
              ${links.commit ? html`<a id="commit-link" href="${links.commit}">${run.commit}</a>` : html`<code>${run.commit}</code>`}
            </dd>
            <dt>Ref</dt>
            <dd>${run.ref}</dd>
            ${
              run.pullRequest &&
              html`<dt>Pull request</dt>
                <dd>
                  ${links.pullRequest ? html`<a id="pull-request-link" href="${links.pullRequest}">#${run.pullRequest.id}</a>` : `#${run.pullRequest.id}`}
                  (${run.pullRequest.sourceRef} → ${run.pullRequest.targetRef})
                </dd>`
            }
            <dt>Triggered by</dt>
            <dd>
              ${run.trigger.kind}${
                run.trigger.deliveryId &&
                html` — delivery
                  <a id="delivery-link" href="/deliveries/${enc(run.trigger.deliveryId)}"
                    >${run.trigger.deliveryId}</a
                  >`
              }
            </dd>
            ${
              run.note &&
              html`<dt>Note</dt>
                <dd>${run.note}</dd>`
            }
          </dl>
          ${
            delivery &&
            html`<h2>Why it ran</h2>
              ${decisionList(delivery, (s) => s.stackId === stack.id)}`
          }
          <h2>Timeline</h2>
          <ol id="timeline" class="timeline">
            ${transitions.map((t) => html`<li>${stateBadge(t.state)} ${when(t.at)}</li>`)}
          </ol>
          <h2>Log</h2>
          ${log === undefined && html`<p>This stack-trigger does not serve run logs.</p>`}
          ${log?.truncated && html`<p class="notice">The log was truncated at its size limit.</p>`}
          <pre
            id="log"
            class="log"
            tabindex="0"
            aria-live="polite"
            aria-label="Run log"
            data-stream="${streamPath}"
            data-after="${after}"
            data-complete="${complete ? 'true' : 'false'}"
          >
${chunks.map((c) => html`<span class="${c.stream}" data-seq="${c.seq}">${c.text}</span>`)}</pre>
          <p id="log-status" role="status">
            ${
              complete
                ? 'The run is over; this is its whole log.'
                : html`Following the log live… (without JavaScript, <a href="">reload</a> to see more)`
            }
          </p>`,
      }),
    );
  });

  // The live log (docs/architecture.md §15): stack-trigger's SSE stream, relayed with the session
  // instead of a token the browser would have to hold.
  router.get('/stacks/:id/runs/:runId/log/stream', async (req, res) => {
    const run = await runOf(String(req.params.id), String(req.params.runId));
    const stack = await st<StackAnswer>('GET', `/stacks/${enc(run.stackId)}`);
    if (!(await deps.guard(req, res, stack.repository))) return;
    const after =
      typeof req.query.after === 'string' && /^-?\d{1,15}$/.test(req.query.after) ? req.query.after : '';
    const lastEventId = req.headers['last-event-id'];
    const controller = new AbortController();
    res.on('close', () => controller.abort());
    let upstream: globalThis.Response;
    try {
      upstream = await deps.api.stream(
        `/runs/${enc(run.id)}/logs/stream${after !== '' && after !== '-1' ? `?after=${after}` : ''}`,
        typeof lastEventId === 'string' && /^\d{1,15}$/.test(lastEventId)
          ? { 'last-event-id': lastEventId }
          : {},
        controller.signal,
      );
    } catch {
      res.status(502).end();
      return;
    }
    if (!upstream.ok || upstream.body === null) {
      res.status(upstream.status === 404 ? 404 : 502).end();
      return;
    }
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    // A stream outlives the request that opened it: signing out, the session's expiry or a revoked
    // Bitbucket permission ends it too.
    const stopWatch = deps.watch(req.session!.id, stack.repository, (why) => {
      req.log.info('live log stream ended: the session may no longer read it', { runId: run.id, why });
      controller.abort();
    });
    res.on('close', stopWatch);
    try {
      for await (const chunk of Readable.fromWeb(upstream.body as WebReadableStream<Uint8Array>))
        res.write(chunk as Buffer);
    } catch {
      // The browser left (abort) or stack-trigger went away: EventSource reconnects on its own.
    } finally {
      res.end();
    }
  });

  return router;
}

function settingsFieldset(v: Record<string, string | undefined>, errors: FieldErrors): Html {
  return html`${field({ name: 'branch', label: 'Branch', value: v.branch, error: errors.branch, required: true })}
  ${field({
    name: 'projectRoot',
    label: 'Project root',
    hint: 'Directory inside the repository; empty for the whole repository.',
    value: v.projectRoot,
    error: errors.projectRoot,
  })}
  ${field({
    name: 'additionalProjectGlobs',
    label: 'Additional project globs',
    hint: 'Comma-separated, e.g. modules/**',
    value: v.additionalProjectGlobs,
    error: errors.additionalProjectGlobs,
  })}
  ${field({ name: 'labels', label: 'Labels', hint: 'Comma-separated.', value: v.labels, error: errors.labels })}
  ${checkbox({ name: 'triggerOnTags', label: 'Run on tags', checked: v.triggerOnTags === 'on' })}
  ${checkbox({ name: 'allowForks', label: 'Allow pull requests from forks', checked: v.allowForks === 'on' })}`;
}

/** Bitbucket's pages for the commit and pull request, through the user-facing host. */
function bitbucketLinks(
  run: RunViewAnswer,
  stack: StackAnswer,
  integration: IntegrationAnswer | undefined,
): { commit?: string; pullRequest?: string } {
  if (run.links?.commit !== undefined) return run.links;
  if (integration === undefined) return {};
  const repo = `${integration.userFacingHost.replace(/\/+$/, '')}/projects/${encodeURIComponent(
    stack.repository.projectKey,
  )}/repos/${encodeURIComponent(stack.repository.slug)}`;
  return {
    commit: `${repo}/commits/${encodeURIComponent(run.commit)}`,
    ...(run.pullRequest ? { pullRequest: `${repo}/pull-requests/${run.pullRequest.id}` } : {}),
  };
}
