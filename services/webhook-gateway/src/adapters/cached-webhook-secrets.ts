import type { SecretsLookup, WebhookSecretsPort } from '../domain/ports';

export interface SecretsCacheOptions {
  ttlMs: number;
  /** Unknown integration ids are remembered this long so a flood of random ids stays in memory. */
  unknownTtlMs: number;
  /** A cached answer keeps serving this long past its TTL while the source fails. */
  staleMs: number;
  maxEntries?: number;
  now?: () => number;
}

interface Entry {
  lookup: SecretsLookup;
  fetchedAt: number;
  expiresAt: number;
}

export interface CachedWebhookSecrets extends WebhookSecretsPort {
  cached(integrationId: string): SecretsLookup | undefined;
  /** Drops one integration (an `integration.*` event announced a change). */
  invalidate(integrationId: string): void;
  clear(): void;
  size(): number;
}

/**
 * In-memory cache in front of the integration service: a short TTL, negative caching of unknown ids,
 * one request in flight per id, and stale answers while the source is down (docs/architecture.md §5: a cached
 * secret keeps working when the integration service is not).
 */
export function createCachedWebhookSecrets(
  load: (integrationId: string) => Promise<SecretsLookup>,
  options: SecretsCacheOptions,
): CachedWebhookSecrets {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 10_000;
  const entries = new Map<string, Entry>();
  const inFlight = new Map<string, Promise<SecretsLookup>>();
  // Bumped by invalidate() so a fetch that started before the invalidation does not store old data.
  const generation = new Map<string, number>();

  function store(id: string, lookup: SecretsLookup): void {
    const t = now();
    const ttl = lookup.kind === 'unknown' ? options.unknownTtlMs : options.ttlMs;
    entries.delete(id);
    entries.set(id, { lookup, fetchedAt: t, expiresAt: t + ttl });
    // Map keeps insertion order: the first key is the least recently stored.
    while (entries.size > maxEntries) {
      const oldest = entries.keys().next().value;
      if (oldest === undefined) break;
      entries.delete(oldest);
    }
  }

  function refresh(id: string): Promise<SecretsLookup> {
    const pending = inFlight.get(id);
    if (pending) return pending;
    const gen = generation.get(id) ?? 0;
    const p = load(id)
      .then((lookup) => {
        if ((generation.get(id) ?? 0) === gen) store(id, lookup);
        return lookup;
      })
      .finally(() => inFlight.delete(id));
    inFlight.set(id, p);
    return p;
  }

  return {
    cached(id) {
      const entry = entries.get(id);
      return entry && entry.expiresAt > now() ? entry.lookup : undefined;
    },
    async getSecrets(id) {
      const entry = entries.get(id);
      const t = now();
      if (entry && entry.expiresAt > t) return entry.lookup;
      try {
        return await refresh(id);
      } catch (err) {
        if (entry && entry.lookup.kind === 'found' && t - entry.expiresAt <= options.staleMs)
          return entry.lookup;
        throw err;
      }
    },
    invalidate(id) {
      entries.delete(id);
      generation.set(id, (generation.get(id) ?? 0) + 1);
    },
    clear() {
      for (const id of entries.keys()) generation.set(id, (generation.get(id) ?? 0) + 1);
      entries.clear();
    },
    size: () => entries.size,
  };
}
