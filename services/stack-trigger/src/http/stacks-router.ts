import { Router } from 'express';
import { validateInput } from '@stacklink/http';
import type { ManageStacks } from '../domain/manage-stacks';
import type { NewStack, StackPatch } from '../domain/model';
import type { createTriggerManualRun, ManualRunRequest } from '../domain/trigger-manual-run';
import { createStackSchema, listRunsQuerySchema, manualRunSchema, patchStackSchema } from './schemas';

export function createStacksRouter(deps: {
  stacks: ManageStacks;
  triggerManualRun: ReturnType<typeof createTriggerManualRun>;
}): Router {
  const router = Router();
  router.post('/stacks', async (req, res) => {
    const input = validateInput<NewStack>(createStackSchema, req.body);
    res.status(201).json(await deps.stacks.create(input));
  });
  router.get('/stacks', async (_req, res) => {
    res.json({ stacks: await deps.stacks.list() });
  });
  router.get('/stacks/:id', async (req, res) => {
    res.json(await deps.stacks.get(req.params.id));
  });
  router.patch('/stacks/:id', async (req, res) => {
    const patch = validateInput<StackPatch>(patchStackSchema, req.body);
    res.json(await deps.stacks.update(req.params.id, patch));
  });
  router.delete('/stacks/:id', async (req, res) => {
    await deps.stacks.delete(req.params.id);
    res.status(204).end();
  });
  router.get('/stacks/:id/runs', async (req, res) => {
    const query = validateInput<{ limit?: number }>(listRunsQuerySchema, req.query);
    res.json({ runs: await deps.stacks.runs(req.params.id, query.limit) });
  });
  router.post('/stacks/:id/runs', async (req, res) => {
    const input = validateInput<ManualRunRequest>(manualRunSchema, req.body);
    const { run, created } = await deps.triggerManualRun(req.params.id, input);
    res.status(created ? 201 : 200).json(run);
  });
  return router;
}
