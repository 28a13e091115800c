import { AppError } from '@stacklink/errors';
import type { DeliveryFilter, StoredDeliveryRecord } from './delivery-history';
import type { DeliveryHistoryPort } from './ports';

export interface ListDeliveriesInput extends Omit<DeliveryFilter, 'after'> {
  /** Opaque: the `nextCursor` of the page before. */
  cursor?: string;
}

export interface DeliveriesPage {
  deliveries: StoredDeliveryRecord[];
  /** Present when more deliveries follow: pass it as `cursor` for the next page. */
  nextCursor?: string;
}

/** `GET /deliveries` (docs/architecture.md §13): the gateway's records, newest first, paged by cursor. */
export function createListDeliveries(deps: { history: DeliveryHistoryPort }) {
  return async (input: ListDeliveriesInput): Promise<DeliveriesPage> => {
    const { cursor, ...filter } = input;
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    const page = await deps.history.list({ ...filter, ...(after === undefined ? {} : { after }) });
    const last = page.records[page.records.length - 1];
    return {
      deliveries: page.records,
      ...(page.hasMore && last !== undefined
        ? { nextCursor: encodeCursor({ receivedAt: last.receivedAt, id: last.id }) }
        : {}),
    };
  };
}

export function encodeCursor(position: { receivedAt: string; id: string }): string {
  return Buffer.from(JSON.stringify([position.receivedAt, position.id])).toString('base64url');
}

/** The position a cursor names; DELIVERY.INVALID_CURSOR (400, naming `cursor`) for anything else. */
export function decodeCursor(cursor: string): { receivedAt: string; id: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      typeof value[0] === 'string' &&
      !Number.isNaN(Date.parse(value[0])) &&
      typeof value[1] === 'string' &&
      value[1].length > 0 &&
      value[1].length <= 300
    )
      return { receivedAt: value[0], id: value[1] };
  } catch {
    // Falls through to the error below.
  }
  throw new AppError('VALIDATION.FAILED', '"cursor" is not a cursor this API gave out', {
    status: 400,
    details: { fields: [{ field: 'cursor', message: '"cursor" is not a cursor this API gave out' }] },
  });
}
