import { Counter, Histogram, Registry, register as globalRegister } from 'prom-client';

export interface BusMetrics {
  published: Counter<string>;
  confirmed: Counter<string>;
  publishFailed: Counter<'reason'>;
  consumed: Counter<'queue'>;
  retried: Counter<'queue'>;
  waited: Counter<'queue' | 'code'>;
  deadLettered: Counter<'queue'>;
  handlerDuration: Histogram<'queue'>;
}

/**
 * Get-or-create by name: several buses in one process (tests, a process with two roles) share the
 * same series instead of throwing "already registered".
 */
export function busMetrics(registry: Registry = globalRegister): BusMetrics {
  const counter = <L extends string>(name: string, help: string, labelNames: L[] = []): Counter<L> =>
    (registry.getSingleMetric(name) as Counter<L> | undefined) ??
    new Counter<L>({ name, help, labelNames, registers: [registry] });
  const histogram =
    (registry.getSingleMetric('stacklink_bus_handler_duration_seconds') as Histogram<'queue'> | undefined) ??
    new Histogram<'queue'>({
      name: 'stacklink_bus_handler_duration_seconds',
      help: 'Time a message handler took, by logical queue',
      labelNames: ['queue'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
  return {
    published: counter('stacklink_bus_published_total', 'publish() calls the broker confirmed'),
    confirmed: counter(
      'stacklink_bus_confirmed_total',
      'Broker confirms received, including the bus own retry and dead-letter copies',
    ),
    publishFailed: counter(
      'stacklink_bus_publish_failed_total',
      'Publishes that were not confirmed, by reason',
      ['reason'],
    ),
    consumed: counter('stacklink_bus_consumed_total', 'Messages handed to a handler, by logical queue', [
      'queue',
    ]),
    retried: counter('stacklink_bus_retried_total', 'Failed messages scheduled for another attempt', [
      'queue',
    ]),
    waited: counter(
      'stacklink_bus_waited_total',
      'Messages delayed without counting an attempt because what they need is down, by queue and error code',
      ['queue', 'code'],
    ),
    deadLettered: counter('stacklink_bus_dead_lettered_total', 'Messages parked in a dead-letter queue', [
      'queue',
    ]),
    handlerDuration: histogram,
  };
}
