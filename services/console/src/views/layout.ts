import type { Session } from '../adapters/redis-sessions';
import { html, type Html } from './html';

const NAV: [href: string, label: string][] = [
  ['/', 'Overview'],
  ['/integrations', 'Integrations'],
  ['/stacks', 'Stacks'],
  ['/deliveries', 'Deliveries'],
  ['/dead-letters', 'Dead letters'],
];

/** The hidden field every POST form carries (checked by requireCsrf). */
export function csrfField(session: Session): Html {
  return html`<input type="hidden" name="_csrf" value="${session.csrfToken}" />`;
}

/** A whole page: one stylesheet and (on the run page) one script, both served by the console itself. */
export function layout(options: {
  title: string;
  session?: Session | undefined;
  current?: string;
  body: Html;
  script?: string;
}): string {
  const signedIn = options.session?.signedIn === true;
  const viewer = !signedIn ? options.session?.viewer : undefined;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${options.title} · Stacklink</title>
        <link rel="stylesheet" href="/assets/console.css" />
        ${options.script && html`<script src="${options.script}" defer></script>`}
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <a class="brand" href="/">Stacklink</a>
          ${
            signedIn &&
            html`<nav aria-label="Main">
                <ul>
                  ${NAV.map(
                    ([href, label]) =>
                      html`<li>
                        <a href="${href}" ${options.current === href && html`aria-current="page"`}
                          >${label}</a
                        >
                      </li>`,
                  )}
                </ul>
              </nav>
              <form method="post" action="/sign-out" class="sign-out">
                ${csrfField(options.session!)}<button type="submit">Sign out</button>
              </form>`
          }
          ${
            viewer &&
            html`<nav aria-label="Main">
                <ul>
                  <li><a href="/" ${options.current === '/' && html`aria-current="page"`}>Runs</a></li>
                </ul>
              </nav>
              <p class="who" id="signed-in-as">
                Signed in
                ${viewer.username !== undefined && html`as <span id="viewer-username">${viewer.username}</span>`}
                with ${viewer.integrationName}
              </p>
              <form method="post" action="/sign-out" class="sign-out">
                ${csrfField(options.session!)}<button type="submit">Sign out</button>
              </form>`
          }
        </header>
        <main id="main">
          <h1>${options.title}</h1>
          ${options.body}
        </main>
      </body>
    </html>`.value;
}

/** A labelled input with its error beside it (`aria-describedby`), the value given back on a retry. */
export function field(options: {
  name: string;
  label: string;
  value?: string | undefined;
  error?: string | undefined;
  type?: string;
  hint?: string;
  required?: boolean;
  autocomplete?: string;
}): Html {
  const id = `f-${options.name}`;
  const described = [options.hint && `${id}-hint`, options.error && `${id}-error`].filter(Boolean).join(' ');
  return html`<div class="field${options.error ? ' invalid' : ''}">
    <label for="${id}">${options.label}${options.required && html` <span aria-hidden="true">*</span>`}</label>
    ${options.hint && html`<p class="hint" id="${id}-hint">${options.hint}</p>`}
    <input
      id="${id}"
      name="${options.name}"
      type="${options.type ?? 'text'}"
      value="${options.type === 'password' ? '' : (options.value ?? '')}"
      ${options.required && html`required`}
      ${options.autocomplete && html`autocomplete="${options.autocomplete}"`}
      ${described && html`aria-describedby="${described}"`}
      ${options.error && html`aria-invalid="true"`}
    />
    ${options.error && html`<p class="error" id="${id}-error" data-field="${options.name}">${options.error}</p>`}
  </div>`;
}

export function checkbox(options: { name: string; label: string; checked: boolean }): Html {
  const id = `f-${options.name}`;
  return html`<div class="field check">
    <input id="${id}" type="checkbox" name="${options.name}" value="on" ${options.checked && html`checked`} />
    <label for="${id}">${options.label}</label>
  </div>`;
}

/** A problem that belongs to no one field (an API that did not answer, a conflict). */
export function alert(message: string | undefined): Html {
  return html`${message && html`<p class="alert" role="alert">${message}</p>`}`;
}

export function when(iso: string | undefined): Html {
  return html`${iso && html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>`}`;
}

export function stateBadge(state: string, id?: string): Html {
  return html`<span class="state state-${state.toLowerCase()}" ${id && html`id="${id}"`}>${state}</span>`;
}
