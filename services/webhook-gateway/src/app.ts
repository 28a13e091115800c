import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Express } from 'express';
import type { Registry } from 'prom-client';
import { createHttpApp, processRegistry, type ReadinessCheck } from '@stacklink/http';
import type { Logger } from '@stacklink/logger';
import { createAcceptDelivery, type AcceptDelivery } from './domain/accept-delivery';
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
    dedup: deps.dedup,
    publisher: deps.publisher,
    metrics: createGatewayMetrics(registry),
    logger: deps.logger,
  });
  // The one place the outcome of each delivery is known: noted for the delivery history, then answered.
  const { recorder } = deps;
  const acceptDelivery: AcceptDelivery =
    recorder === undefined
      ? accept
      : (delivery) =>
          accept(delivery).then((out) => {
            recorder.record(delivery, out);
            return out;
          });
  const webhook = createWebhookHandler({
    acceptDelivery,
    bodyLimitBytes: deps.bodyLimitBytes,
    logger: deps.logger,
  });
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    if (isWebhookRequest(req)) webhook(req, res);
    else express(req, res);
  };
  return { listener, express };
}
