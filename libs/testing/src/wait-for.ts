export interface WaitForOptions {
  /** Deadline for the condition to become truthy; 5000 by default. */
  timeoutMs?: number;
  /** Pause between two polls; 20 by default. */
  intervalMs?: number;
  /** What the rejection says when the deadline passes: name the outcome that did not happen. */
  message?: string;
}

/**
 * Polls `condition` until it returns (or resolves to) a truthy value and resolves with that value.
 * A condition that throws counts as "not yet"; its last error is appended to the timeout message so a
 * failing test says why. Tests wait for outcomes with this, never with a sleep (STYLE.md "Tests").
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const intervalMs = options.intervalMs ?? 20;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const base = options.message ?? 'condition was not met';
      const why = lastError === undefined ? '' : ` (last error: ${describe(lastError)})`;
      throw new Error(`${base} within ${timeoutMs} ms${why}`);
    }
    await new Promise((resolve) =>
      setTimeout(resolve, Math.min(intervalMs, Math.max(0, deadline - Date.now()))),
    );
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
