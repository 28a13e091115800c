/**
 * Secrets never reach a log line (STYLE.md): values under a sensitive field name are replaced, and any
 * registered secret value is replaced wherever it appears inside a string.
 */
export const REDACTED = '[REDACTED]';

const SENSITIVE_KEY =
  /(pass(word)?|secret|token|authorization|api[-_]?key|private[-_]?key|master[-_]?key|credential|cookie|signature|cipher(text)?)/i;

const registered = new Set<string>();

/** Secrets shorter than this are not substituted inside strings: they would mangle ordinary words. */
const MIN_SECRET_LENGTH = 6;

/** Registers a secret value (a token, a webhook secret) so it is removed from every later log line. */
export function registerSecret(value: string | undefined | null): void {
  if (typeof value === 'string' && value.length >= MIN_SECRET_LENGTH) registered.add(value);
}

export function forgetSecret(value: string): void {
  registered.delete(value);
}

export function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEY.test(key);
}

export function redactString(text: string): string {
  let out = text;
  for (const secret of registered) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  return out;
}

/** Returns a redacted deep copy; cycles and depth are bounded so a log call can never hang. */
export function redact(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 8 || seen.has(value)) return '[Truncated]';
  seen.add(value);
  if (Buffer.isBuffer(value)) return `[Buffer ${value.length} bytes]`;
  if (value instanceof Error) {
    const err: Record<string, unknown> = { name: value.name, message: redactString(value.message) };
    if (value.stack) err.stack = redactString(value.stack);
    const code = (value as { code?: unknown }).code;
    if (code !== undefined) err.code = code;
    return err;
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] =
      isSensitiveKey(key) && v !== undefined && v !== null && v !== ''
        ? REDACTED
        : redact(v, depth + 1, seen);
  }
  return out;
}
