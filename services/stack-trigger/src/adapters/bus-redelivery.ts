import type { Bus } from '@stacklink/bus';
import { publishRedelivery } from '@stacklink/contracts';
import type { RedeliveryPort } from '../domain/ports';

/** Redeliveries go to `vcs.events` like the gateway's events, marked with the event they repeat. */
export function createBusRedelivery(bus: Pick<Bus, 'publish'>): RedeliveryPort {
  return { redeliver: (event, originalEventId) => publishRedelivery(bus, event, originalEventId) };
}
