import type { SecretsLookup, WebhookSecretsPort } from '../domain/ports';

export interface SecretsCacheOptions {
  ttlMs: number;
  /** Unknown integration ids are remembered this long so a flood of random ids stays in memory. */
  unknownTtlMs: number;
  /** A cached answer keeps serving this long past its TTL while the source fails. */
  staleMs: number;
  /** Known integrations kept (default 10,000); unknown ids never take one of these places. */
  maxEntries?: number;
  /** Unknown ids remembered (default 1,000), in a cache of their own that cannot evict a known secret. */
  maxUnknownEntries?: number;
  now?: () => number;
}

interface Entry {
  lookup: SecretsLookup;
  fetchedAt: number;
  expiresAt: number;
}

export interface CachedWebhookSecrets extends WebhookSecretsPort {
  cached(integrationId: string): SecretsLookup | undefined;
  known(integrationId: string): boolean;
  /** Drops one integration (an `integration.*` event announced a change). */
  invalidate(integrationId: string): void;
  clear(): void;
  /** Known integrations cached. */
  size(): number;
  /** Unknown ids remembered. */
  unknownSize(): number;
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
  const maxUnknown = options.maxUnknownEntries ?? 1_000;
  // Two maps, so a flood of random ids (docs/architecture.md §12) only ever evicts other unknown ids.
  const entries = new Map<string, Entry>();
  const unknown = new Map<string, Entry>();
  // Ids that were found once: still known after an invalidation (a rotation), so their next lookup is
  // never held to the budget for unknown ids. Only a found answer adds one; an unknown answer removes it.
  const knownIds = new Set<string>();
  const inFlight = new Map<string, Promise<SecretsLookup>>();
  // Bumped by invalidate() so a fetch that started before the invalidation does not store old data.
  const generation = new Map<string, number>();

  function store(id: string, lookup: SecretsLookup): void {
    const t = now();
    const isUnknown = lookup.kind === 'unknown';
    const ttl = isUnknown ? options.unknownTtlMs : options.ttlMs;
    const target = isUnknown ? unknown : entries;
    // A deleted integration stops being known; a created one stops being unknown.
    (isUnknown ? entries : unknown).delete(id);
    target.delete(id);
    target.set(id, { lookup, fetchedAt: t, expiresAt: t + ttl });
    evictOldest(target, isUnknown ? maxUnknown : maxEntries);
    knownIds.delete(id);
    if (!isUnknown) {
      knownIds.add(id);
      if (knownIds.size > maxEntries) knownIds.delete(knownIds.values().next().value!);
    }
  }

  function evictOldest(map: Map<string, Entry>, max: number): void {
    // Map keeps insertion order: the first key is the least recently stored.
    while (map.size > max) {
      const oldest = map.keys().next().value;
      if (oldest === undefined) break;
      map.delete(oldest);
    }
  }

  function fresh(id: string, t: number): Entry | undefined {
    const entry = entries.get(id) ?? unknown.get(id);
    return entry && entry.expiresAt > t ? entry : undefined;
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
      return fresh(id, now())?.lookup;
    },
    known: (id) => knownIds.has(id),
    async getSecrets(id) {
      const t = now();
      const hit = fresh(id, t);
      if (hit) return hit.lookup;
      const entry = entries.get(id);
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
      unknown.delete(id);
      generation.set(id, (generation.get(id) ?? 0) + 1);
    },
    clear() {
      for (const id of entries.keys()) generation.set(id, (generation.get(id) ?? 0) + 1);
      entries.clear();
      unknown.clear();
    },
    size: () => entries.size,
    unknownSize: () => unknown.size,
  };
}
