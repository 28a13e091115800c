/**
 * How many lookups of integration ids the gateway does not know one source (a remote address) may
 * cause per window (docs/architecture.md §12): each costs a call to the integration service, so random
 * ids from one address are answered without a lookup once its budget is spent. Memory is bounded: at
 * most `maxSources` addresses are tracked, the oldest window dropped first.
 */
export interface UnknownIdBudgetOptions {
  perWindow: number;
  windowMs: number;
  maxSources?: number;
  now?: () => number;
}

export interface UnknownIdBudget {
  /** True when `source` may cause one more lookup now; false (with the seconds to wait) otherwise. */
  take(source: string): { allowed: true } | { allowed: false; retryAfterSeconds: number };
}

export function createUnknownIdBudget(options: UnknownIdBudgetOptions): UnknownIdBudget {
  const now = options.now ?? Date.now;
  const maxSources = options.maxSources ?? 10_000;
  const windows = new Map<string, { start: number; used: number }>();
  const ALLOWED = { allowed: true } as const;
  return {
    take(source) {
      const t = now();
      let w = windows.get(source);
      if (w === undefined || t - w.start >= options.windowMs) {
        windows.delete(source);
        w = { start: t, used: 0 };
        windows.set(source, w);
        while (windows.size > maxSources) {
          const oldest = windows.keys().next().value;
          if (oldest === undefined) break;
          windows.delete(oldest);
        }
      }
      if (w.used >= options.perWindow) {
        return {
          allowed: false,
          retryAfterSeconds: Math.max(1, Math.ceil((w.start + options.windowMs - t) / 1000)),
        };
      }
      w.used++;
      return ALLOWED;
    },
  };
}
