import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Express } from 'express';
import type { Registry } from 'prom-client';
import { createHttpApp, processRegistry, type ReadinessCheck } from '@stacklink/http';
import type { Logger } from '@stacklink/logger';
import { createAcceptDelivery, type AcceptDelivery } from './domain/accept-delivery';
import { createUnknownIdBudget } from './domain/unknown-id-budget';
import type { DeliveryDedupPort, EventPublisherPort, WebhookSecretsPort } from './domain/ports';
import type { DeliveryRecorder } from './adapters/bus-delivery-recorder';
import { createGatewayMetrics } from './adapters/prometheus-gateway-metrics';
import { createWebhookHandler, isWebhookRequest } from './http/webhook-route';

export interface AppDeps {
  logger: Logger;
  secrets: WebhookSecretsPort;
  dedup: DeliveryDedupPort;
  publisher: EventPublisherPort;
  readiness: ReadinessCheck[];
  bodyLimitBytes: number;
  /** Body bytes all deliveries being read may hold together; over it, 503 before reading. */
  maxBytesInFlight?: number;
  /** Lookups of integration ids not known that one remote address may cause per minute. */
  unknownLookupsPerMinute?: number;
  registry?: Registry;
  /** Where the outcome of every answered delivery goes (docs/architecture.md §13); none in some tests. */
  recorder?: Pick<DeliveryRecorder, 'record'>;
}

export interface GatewayApp {
  /** The node:http listener: the webhook route on the fast path, everything else through express. */
  listener: RequestListener;
  express: Express;
}

/** Builds the gateway without listening, so tests start the real thing on port 0. */
export function createApp(deps: AppDeps): GatewayApp {
  const registry = processRegistry(deps.registry);
  const express = createHttpApp(
    { service: 'webhook-gateway', logger: deps.logger, readiness: deps.readiness, registry },
    () => undefined,
  );
  const accept = createAcceptDelivery({
    secrets: deps.secrets,
    unknownIdBudget: createUnknownIdBudget({
      perWindow: deps.unknownLookupsPerMinute ?? 30,
      windowMs: 60_000,
    }),
    dedup: deps.dedup,
    publisher: deps.publisher,
    metrics: createGatewayMetrics(registry),
    logger: deps.logger,
  });
  // The one place the outcome of each delivery that was read is known: noted for the history, then answered.
  const { recorder } = deps;
  // Deliveries refused before their body is read (unknown ids, bad scopes, over a budget) leave no record:
  // losing those is acceptable (docs/architecture.md §13) and they name no integration we hold.
  const acceptDelivery: AcceptDelivery =
    recorder === undefined
      ? accept
      : {
          ...accept,
          accept: (delivery, admission) =>
            accept.accept(delivery, admission).then((out) => {
              recorder.record(delivery, out);
              return out;
            }),
        };
  const webhook = createWebhookHandler({
    acceptDelivery,
    bodyLimitBytes: deps.bodyLimitBytes,
    maxBytesInFlight: deps.maxBytesInFlight ?? 64 * 1024 * 1024,
    logger: deps.logger,
  });
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    if (isWebhookRequest(req)) webhook(req, res);
    else express(req, res);
  };
  return { listener, express };
}
