import { Joi } from '@stacklink/config';
import { DELIVERY_OUTCOMES } from '@stacklink/contracts';
import {
  createDocumentedRouter,
  errorResponse,
  validationError,
  type DocumentedRouter,
} from '@stacklink/http';
import type { createListDeliveries, ListDeliveriesInput } from '../domain/list-deliveries';
import type { createRedeliver } from '../domain/redeliver';
import type { createShowDelivery } from '../domain/show-delivery';
import { deliveriesPageSchema, deliveryViewSchema, redeliverySchema } from './answers';

const DEFAULT_LIMIT = 50;

/** `GET /deliveries` query: every parameter checked, a bad one answered 400 naming it. */
const listQuerySchema = Joi.object({
  integrationId: Joi.string().min(1).max(255),
  projectKey: Joi.string().pattern(/^~?[A-Za-z0-9_]{1,128}$/, 'a project key'),
  slug: Joi.string().pattern(/^[A-Za-z0-9._-]{1,128}$/, 'a repository slug'),
  outcome: Joi.string().valid(...DELIVERY_OUTCOMES),
  since: Joi.date().iso(),
  limit: Joi.number().integer().min(1).max(500).default(DEFAULT_LIMIT),
  cursor: Joi.string().min(1).max(1000),
})
  .required()
  .label('query');

const deliveryIdSchema = Joi.object({ deliveryId: Joi.string().min(1).max(255).required() });
const notFound = errorResponse('no such delivery', 'DELIVERY.NOT_FOUND', 'no delivery x');

/** The delivery history API (docs/architecture.md §13): thin: parse, call a use case, answer. */
export function createDeliveriesRouter(deps: {
  listDeliveries: ReturnType<typeof createListDeliveries>;
  showDelivery: ReturnType<typeof createShowDelivery>;
  redeliver: ReturnType<typeof createRedeliver>;
}): DocumentedRouter {
  const api = createDocumentedRouter();
  api.route<Omit<ListDeliveriesInput, 'since'> & { since?: Date }>(
    {
      method: 'get',
      path: '/deliveries',
      summary: "The gateways' delivery records, newest first, paged by cursor",
      auth: ['admin'],
      query: listQuerySchema,
      responses: {
        200: { description: 'one page', schema: deliveriesPageSchema },
        400: validationError('outcome'),
      },
    },
    async ({ query }, _req, res) => {
      const { since, ...rest } = query;
      res.json(
        await deps.listDeliveries({
          ...rest,
          ...(since === undefined ? {} : { since: since.toISOString() }),
        }),
      );
    },
  );
  api.route(
    {
      method: 'get',
      path: '/deliveries/:deliveryId',
      summary: 'One delivery: the gateway records, the event, the decision per stack, the runs',
      auth: ['admin'],
      params: deliveryIdSchema,
      responses: { 200: { description: 'the delivery', schema: deliveryViewSchema }, 404: notFound },
    },
    async ({ params }, _req, res) => {
      res.json(await deps.showDelivery(params.deliveryId!));
    },
  );
  api.route(
    {
      method: 'post',
      path: '/deliveries/:deliveryId/redeliver',
      summary:
        'Publish an accepted event again; consumers are idempotent, so only what is missing is created',
      auth: ['admin'],
      params: deliveryIdSchema,
      responses: {
        202: { description: 'published', schema: redeliverySchema },
        404: notFound,
        409: errorResponse(
          'the delivery was never accepted, or is not decided yet',
          'DELIVERY.NOT_ACCEPTED',
          'delivery x was never accepted (rejected): there is no event to redeliver',
        ),
      },
    },
    async ({ params }, _req, res) => {
      res.status(202).json(await deps.redeliver(params.deliveryId!));
    },
  );
  return api;
}
