import { Router } from 'express';
import { Joi } from '@stacklink/config';
import { DELIVERY_OUTCOMES } from '@stacklink/contracts';
import { validateInput } from '@stacklink/http';
import type { createListDeliveries, ListDeliveriesInput } from '../domain/list-deliveries';
import type { createRedeliver } from '../domain/redeliver';
import type { createShowDelivery } from '../domain/show-delivery';

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

/** The delivery history API (docs/architecture.md §13): thin: parse, call a use case, answer. */
export function createDeliveriesRouter(deps: {
  listDeliveries: ReturnType<typeof createListDeliveries>;
  showDelivery: ReturnType<typeof createShowDelivery>;
  redeliver: ReturnType<typeof createRedeliver>;
}): Router {
  const router = Router();
  router.get('/deliveries', async (req, res) => {
    const query = validateInput<Omit<ListDeliveriesInput, 'since'> & { since?: Date }>(listQuerySchema, {
      ...req.query,
    });
    const { since, ...rest } = query;
    res.json(
      await deps.listDeliveries({ ...rest, ...(since === undefined ? {} : { since: since.toISOString() }) }),
    );
  });
  router.get('/deliveries/:deliveryId', async (req, res) => {
    const { deliveryId } = validateInput<{ deliveryId: string }>(deliveryIdSchema, req.params);
    res.json(await deps.showDelivery(deliveryId));
  });
  router.post('/deliveries/:deliveryId/redeliver', async (req, res) => {
    const { deliveryId } = validateInput<{ deliveryId: string }>(deliveryIdSchema, req.params);
    res.status(202).json(await deps.redeliver(deliveryId));
  });
  return router;
}
