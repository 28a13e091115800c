/**
 * Markup that is already safe: built only by `html`, so every piece of text that reaches a page went
 * through `escapeHtml` exactly once (docs/decisions/010-console-stack.md).
 */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Text made safe for element content and for quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ENTITIES[c]!);
}

function render(value: unknown): string {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === undefined || value === null || value === false) return '';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return escapeHtml(typeof value === 'string' ? value : (JSON.stringify(value) ?? ''));
}

/**
 * The console's only way to build markup: a tagged template that escapes every interpolation unless it
 * is itself `Html` (a nested template); arrays render item by item; `undefined`, `null` and `false`
 * render nothing, so `${cond && html`…`}` works.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new Html(out);
}
