import { Router, type Request, type Response } from 'express';
import { tokensEqual } from '@stacklink/http';
import type { SessionsPort } from '../adapters/redis-sessions';
import type { SignInLimiterPort } from '../adapters/redis-sign-in-limiter';
import type { StacklinkApi } from '../adapters/stacklink-api';
import { html } from '../views/html';
import { alert, csrfField, field, layout } from '../views/layout';
import { Joi, validateForm, type FieldErrors } from './forms';
import { clearSessionCookie, requireCsrf, safeNext, setSessionCookie } from './session-middleware';

const signInForm = Joi.object({
  token: Joi.string().max(4096).required().label('token').messages({
    'string.empty': 'token is required: paste the ADMIN_TOKEN',
    'any.required': 'token is required: paste the ADMIN_TOKEN',
  }),
  next: Joi.string().max(2000).allow(''),
});

/**
 * Operator sign-in with ADMIN_TOKEN (docs/architecture.md §15): the token is posted once, compared in
 * constant time and never stored, shown or put in a URL; what the browser keeps is a new session id.
 */
export function createAuthRouter(deps: {
  adminToken: string;
  sessions: SessionsPort;
  limiter: SignInLimiterPort;
  api: StacklinkApi;
  /** Offer "Sign in with <integration>" for integrations with an OAuth client (issue 22). */
  signInWithBitbucket: boolean;
}): Router {
  const router = Router();

  const showForm = async (
    req: Request,
    res: Response,
    status: number,
    options: { next: string; errors?: FieldErrors; problem?: string },
  ) => {
    // The form is bound to a fresh anonymous session, so the sign-in POST carries a CSRF token too.
    const session = req.session ?? (await deps.sessions.create(false));
    if (!req.session) setSessionCookie(req, res, session);
    const providers = deps.signInWithBitbucket
      ? await deps.api
          .call<{ integrations: { id: string; name: string; oauth?: { configured: boolean } }[] }>(
            'integration',
            'GET',
            '/integrations',
          )
          .then((r) => r.integrations.filter((i) => i.oauth?.configured === true))
          .catch(() => [])
      : [];
    res
      .status(status)
      .type('html')
      .send(
        layout({
          title: 'Sign in',
          body: html`${alert(options.problem ?? options.errors?.form)}
            ${
              providers.length > 0 &&
              html`<section aria-labelledby="bitbucket-title" id="sign-in-with-bitbucket">
                <h2 id="bitbucket-title">Followed a link from Bitbucket?</h2>
                <p>
                  Sign in with your Bitbucket account to see the runs of the repositories you can read there.
                </p>
                <ul class="providers">
                  ${providers.map(
                    (p) =>
                      html`<li>
                        <a
                          class="button"
                          data-integration="${p.id}"
                          href="/auth/bitbucket/${encodeURIComponent(p.id)}/start?next=${encodeURIComponent(options.next)}"
                          >Sign in with ${p.name}</a
                        >
                      </li>`,
                  )}
                </ul>
              </section>`
            }
            <p>Operators sign in with the deployment's <code>ADMIN_TOKEN</code>.</p>
            <form method="post" action="/sign-in" class="narrow" id="sign-in">
              ${csrfField(session)}
              <input type="hidden" name="next" value="${options.next}" />
              ${field({
                name: 'token',
                label: 'Admin token',
                type: 'password',
                required: true,
                autocomplete: 'current-password',
                error: options.errors?.token,
              })}
              <button type="submit">Sign in</button>
            </form>`,
        }),
      );
  };

  router.get('/sign-in', async (req, res) => {
    const next = safeNext(req.query.next);
    if (req.session?.signedIn || req.session?.viewer) {
      res.redirect(303, next);
      return;
    }
    await showForm(req, res, 200, { next });
  });

  router.post('/sign-in', requireCsrf, async (req, res) => {
    const body = req.body as { next?: unknown };
    const next = safeNext(body.next);
    const client = req.ip ?? 'unknown';
    if (!(await deps.limiter.allowed(client))) {
      res.setHeader('Retry-After', '60');
      await showForm(req, res, 429, {
        next,
        problem: 'Too many failed sign-ins from this address; wait a while before trying again.',
      });
      return;
    }
    const form = validateForm<{ token: string }>(signInForm, req.body);
    if (!form.ok) {
      await showForm(req, res, 400, { next, errors: form.errors });
      return;
    }
    if (!tokensEqual(form.value.token, deps.adminToken)) {
      await deps.limiter.failed(client);
      req.log.warn('sign-in refused: wrong token', { client });
      await showForm(req, res, 401, {
        next,
        errors: { token: 'token is not this deployment’s ADMIN_TOKEN' },
      });
      return;
    }
    // A new id on sign-in: an id known before signing in (fixation) is worth nothing after.
    await deps.sessions.destroy(req.session!.id);
    const session = await deps.sessions.create(true);
    setSessionCookie(req, res, session);
    req.log.info('operator signed in', { client });
    res.redirect(303, next);
  });

  router.post('/sign-out', requireCsrf, async (req, res) => {
    await deps.sessions.destroy(req.session!.id);
    clearSessionCookie(req, res);
    res.redirect(303, '/sign-in');
  });

  return router;
}
