/**
 * The delivery history of docs/architecture.md §13 ("why did, or didn't, it run?"): the gateway's record
 * of each delivery and the trigger's decision for each event, in the words the API answers with.
 */
import { createHash } from 'node:crypto';
import type { DeliveryRecord, StackDecisionOutcome } from '@stacklink/contracts';
import { EVENT_KEY_BY_TYPE } from '@stacklink/events';
import type { CanonicalEvent } from './canonical-event';
import type { RepositoryCoordinates } from './model';

export type { DeliveryRecord, DeliveryOutcome } from '@stacklink/contracts';

/** A gateway record as stored: with the repository, once the event's decision named it. */
export interface StoredDeliveryRecord extends DeliveryRecord {
  /** Stable id of the record (cursor tie-break). */
  id: string;
  repository?: RepositoryCoordinates;
}

/** What happened to one stack of the event's repository. */
export type StackOutcome = StackDecisionOutcome;

export interface StackDecision {
  stackId: string;
  outcome: StackOutcome;
  /** Skipped: the reason code (`files-untouched`, `branch-mismatch`, `over-cap`, `refused`…). */
  reason?: string;
  /** In words a developer understands. */
  detail?: string;
  runId?: string;
}

/** The trigger's decision for one event: written once the event is handled, before it is acked. */
export interface DeliveryDecision {
  eventId: string;
  deliveryId: string;
  integrationId: string;
  repository: RepositoryCoordinates;
  type: CanonicalEvent['type'];
  receivedAt: string;
  decidedAt: string;
  /** Set on a redelivery (`POST /deliveries/{id}/redeliver`): the event this one repeats. */
  redeliveryOf?: string;
  /** One line: what the event was. */
  summary: string;
  /** The canonical event itself (never the raw body), so the delivery can be redelivered. */
  event: CanonicalEvent;
  stacks: StackDecision[];
  /** Runs created, found existing, canceled or retried. */
  runIds: string[];
  ignored?: string;
  replied?: string;
  /** The Bitbucket calls the decision needed, in words (`changes of pull request #7`). */
  bitbucketCalls: string[];
}

export interface DeliveryFilter {
  integrationId?: string;
  projectKey?: string;
  slug?: string;
  outcome?: string;
  /** Only records received at or after this instant. */
  since?: string;
  limit: number;
  /** Continue after this record (newest first). */
  after?: { receivedAt: string; id: string };
}

export interface DeliveryPage {
  records: StoredDeliveryRecord[];
  /** More records exist beyond this page. */
  hasMore: boolean;
}

/** Everything the store holds about one delivery id. */
export interface DeliveryHistoryEntry {
  /** Oldest first: the accepted delivery, then any duplicate of it. */
  records: StoredDeliveryRecord[];
  /** Oldest first: the original event's, then each redelivery's. */
  decisions: DeliveryDecision[];
}

export interface PruneOptions {
  /** Records and decisions received before this go. */
  olderThan: Date;
  /** Newest records kept per integration; older ones go. */
  maxPerIntegration: number;
  /** Rows deleted per statement, so a prune never holds the store for long. */
  batchSize: number;
}

/**
 * The stored id of a gateway record: an accepted delivery's is its event's, so the record the decision
 * stands in with and the gateway's own are one; any other's is derived from its fields, so a records
 * message delivered twice stores each record once.
 */
export function deliveryRecordId(record: DeliveryRecord): string {
  if (record.outcome === 'accepted' && record.eventId !== undefined) return `event:${record.eventId}`;
  const fields = [record.integrationId, record.deliveryId, record.receivedAt, record.outcome, record.status];
  return `record:${createHash('sha256').update(JSON.stringify(fields)).digest('hex').slice(0, 32)}`;
}

/**
 * The record an original event's decision stands in with until the gateway's arrives (a batch of records
 * may be lost; a decision may not): the same fields, from the event.
 */
export function recordOfDecision(decision: DeliveryDecision): DeliveryRecord {
  return {
    deliveryId: decision.deliveryId,
    integrationId: decision.integrationId,
    eventKey: EVENT_KEY_BY_TYPE[decision.type],
    receivedAt: decision.receivedAt,
    status: 202,
    outcome: 'accepted',
    eventId: decision.eventId,
  };
}
