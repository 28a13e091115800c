import type { CanonicalEvent } from '@stacklink/events';

/** Webhook secrets of one integration: the current one plus any previous one still in its grace period. */
export type SecretsLookup = { kind: 'found'; secrets: string[] } | { kind: 'unknown' };

export interface WebhookSecretsPort {
  /** Throws a retryable AppError when the secret source cannot answer and nothing usable is cached. */
  getSecrets(integrationId: string): Promise<SecretsLookup>;
  /** A fresh answer already in memory, if any: the common case, answered without waiting. */
  cached?(integrationId: string): SecretsLookup | undefined;
  /** Whether the id belongs to an integration the gateway has seen (even if its answer is stale). */
  known?(integrationId: string): boolean;
}

/**
 * Delivery dedup on (integration, X-Request-Id). A claim is `pending` until the publish is confirmed,
 * so a publish that fails can release it and the same delivery is accepted again.
 */
export type DedupClaim = 'claimed' | 'duplicate' | 'in_flight' | 'unavailable';

export interface DeliveryDedupPort {
  claim(integrationId: string, deliveryId: string): Promise<DedupClaim>;
  markPublished(integrationId: string, deliveryId: string): Promise<void>;
  release(integrationId: string, deliveryId: string): Promise<void>;
}

export interface EventPublisherPort {
  /**
   * Publishes an event returned by `normalize()` (already validated against its schema). Resolves
   * only once the broker confirmed it; rejects with a retryable AppError otherwise.
   */
  publish(event: CanonicalEvent): Promise<void>;
}

export interface GatewayMetricsPort {
  delivery(eventKey: string, outcome: string): void;
  signatureFailure(reason: string): void;
  dedupHit(): void;
  publishSeconds(seconds: number): void;
}
