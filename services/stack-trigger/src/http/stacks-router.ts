import { Router } from 'express';
import { validateInput } from '@stacklink/http';
import type { ManageStacks } from '../domain/manage-stacks';
import { buildKeyFor } from '../domain/commit-status';
import { reportKeyFor } from '../domain/insight-report';
import type { NewStack, Stack, StackPatch } from '../domain/model';
import type { createTriggerManualRun, ManualRunRequest } from '../domain/trigger-manual-run';
import { createStackSchema, listRunsQuerySchema, manualRunSchema, patchStackSchema } from './schemas';

export function createStacksRouter(deps: {
  stacks: ManageStacks;
  triggerManualRun: ReturnType<typeof createTriggerManualRun>;
}): Router {
  const router = Router();
  router.post('/stacks', async (req, res) => {
    const input = validateInput<NewStack>(createStackSchema, req.body);
    res.status(201).json(withBitbucketKeys(await deps.stacks.create(input)));
  });
  router.get('/stacks', async (_req, res) => {
    res.json({ stacks: (await deps.stacks.list()).map(withBitbucketKeys) });
  });
  router.get('/stacks/:id', async (req, res) => {
    res.json(withBitbucketKeys(await deps.stacks.get(req.params.id)));
  });
  router.patch('/stacks/:id', async (req, res) => {
    const patch = validateInput<StackPatch>(patchStackSchema, req.body);
    res.json(withBitbucketKeys(await deps.stacks.update(req.params.id, patch)));
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

/**
 * A stack as the API shows it: with the keys it carries in Bitbucket, the build key to add under the
 * repository's required builds and the Code Insights report key (README "Require a stack before merging").
 */
function withBitbucketKeys(stack: Stack): Stack & { bitbucket: { buildKey: string; reportKey: string } } {
  return { ...stack, bitbucket: { buildKey: buildKeyFor(stack.id), reportKey: reportKeyFor(stack.id) } };
}
