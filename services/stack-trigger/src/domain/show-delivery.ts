import { AppError } from '@stacklink/errors';
import type { DeliveryDecision, StackDecision, StoredDeliveryRecord } from './delivery-history';
import type { Run } from './model';
import type { DeliveryHistoryPort, RunRepositoryPort, StackRepositoryPort } from './ports';

export interface DeliveryView {
  deliveryId: string;
  /** The gateway's records: the answered delivery and any duplicate of it. */
  records: StoredDeliveryRecord[];
  /** What the event was, when one was accepted. */
  event?: {
    id: string;
    type: string;
    integrationId: string;
    repository: { projectKey: string; slug: string };
    receivedAt: string;
    summary: string;
  };
  /** The trigger's decisions: the event's, then each redelivery's. */
  decisions: (Omit<DeliveryDecision, 'event' | 'stacks'> & {
    stacks: (StackDecision & { stackName?: string })[];
  })[];
  /** The runs any decision names, as they are now. */
  runs: Run[];
}

/** `GET /deliveries/{deliveryId}` (docs/architecture.md §13); DELIVERY.NOT_FOUND (404) when unknown. */
export function createShowDelivery(deps: {
  history: DeliveryHistoryPort;
  runs: RunRepositoryPort;
  stacks: StackRepositoryPort;
}) {
  return async (deliveryId: string): Promise<DeliveryView> => {
    const entry = await deps.history.get(deliveryId);
    if (entry.records.length === 0 && entry.decisions.length === 0)
      throw new AppError('DELIVERY.NOT_FOUND', `no delivery ${deliveryId}`, { status: 404 });
    const runIds = [...new Set(entry.decisions.flatMap((d) => d.runIds))];
    const runs = (await Promise.all(runIds.map((id) => deps.runs.get(id)))).filter(
      (r): r is Run => r !== undefined,
    );
    const stackIds = [...new Set(entry.decisions.flatMap((d) => d.stacks.map((s) => s.stackId)))];
    const names = new Map<string, string>();
    for (const stack of await Promise.all(stackIds.map((id) => deps.stacks.get(id))))
      if (stack !== undefined) names.set(stack.id, stack.name);
    const original = entry.decisions.find((d) => d.redeliveryOf === undefined) ?? entry.decisions[0];
    return {
      deliveryId,
      records: entry.records,
      ...(original === undefined
        ? {}
        : {
            event: {
              id: original.eventId,
              type: original.type,
              integrationId: original.integrationId,
              repository: original.repository,
              receivedAt: original.receivedAt,
              summary: original.summary,
            },
          }),
      decisions: entry.decisions.map(({ event: _event, stacks, ...rest }) => ({
        ...rest,
        stacks: stacks.map((s) => {
          const stackName = names.get(s.stackId);
          return stackName === undefined ? s : { ...s, stackName };
        }),
      })),
      runs,
    };
  };
}
