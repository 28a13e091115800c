import {
  createDocumentedRouter,
  errorResponse,
  validationError,
  type DocumentedRouter,
} from '@stacklink/http';
import type { ManageStacks } from '../domain/manage-stacks';
import { buildKeyFor } from '../domain/commit-status';
import { reportKeyFor } from '../domain/insight-report';
import type { NewStack, Stack, StackPatch } from '../domain/model';
import type { createTriggerManualRun, ManualRunRequest } from '../domain/trigger-manual-run';
import {
  runExample,
  runListSchema,
  runSchema,
  stackExample,
  stackListSchema,
  stackNotFound,
  stackSchema,
} from './answers';
import { createStackSchema, listRunsQuerySchema, manualRunSchema, patchStackSchema } from './schemas';

const admin = ['admin'];

export function createStacksRouter(deps: {
  stacks: ManageStacks;
  triggerManualRun: ReturnType<typeof createTriggerManualRun>;
}): DocumentedRouter {
  const api = createDocumentedRouter();
  api.route<undefined, NewStack>(
    {
      method: 'post',
      path: '/stacks',
      summary: 'Create a stack',
      auth: admin,
      body: createStackSchema,
      bodyExample: {
        name: 'network',
        integrationId: stackExample.integrationId,
        repository: { projectKey: 'DEMO', slug: 'infra' },
        branch: 'main',
        projectRoot: 'stacks/network',
      },
      responses: {
        201: { description: 'created', schema: stackSchema, example: stackExample },
        400: validationError('branch'),
        409: errorResponse('the name is taken', 'STACK.NAME_TAKEN', 'a stack named network exists'),
      },
    },
    async ({ body }, _req, res) => {
      res.status(201).json(withBitbucketKeys(await deps.stacks.create(body)));
    },
  );
  api.route(
    {
      method: 'get',
      path: '/stacks',
      summary: 'List stacks',
      auth: admin,
      responses: {
        200: { description: 'every stack', schema: stackListSchema, example: { stacks: [stackExample] } },
      },
    },
    async (_input, _req, res) => {
      res.json({ stacks: (await deps.stacks.list()).map(withBitbucketKeys) });
    },
  );
  api.route(
    {
      method: 'get',
      path: '/stacks/:id',
      summary: 'One stack',
      auth: admin,
      responses: {
        200: { description: 'the stack', schema: stackSchema, example: stackExample },
        404: stackNotFound,
      },
    },
    async ({ params }, _req, res) => {
      res.json(withBitbucketKeys(await deps.stacks.get(params.id!)));
    },
  );
  api.route<undefined, StackPatch>(
    {
      method: 'patch',
      path: '/stacks/:id',
      summary: 'Change a stack; `enabled: false` disables it, `true` enables it again',
      auth: admin,
      body: patchStackSchema,
      bodyExample: { enabled: false },
      responses: {
        200: { description: 'the stack as changed', schema: stackSchema },
        400: validationError('branch'),
        404: stackNotFound,
      },
    },
    async ({ params, body }, _req, res) => {
      res.json(withBitbucketKeys(await deps.stacks.update(params.id!, body)));
    },
  );
  api.route(
    {
      method: 'delete',
      path: '/stacks/:id',
      summary: 'Delete a stack',
      auth: admin,
      responses: { 204: { description: 'deleted' }, 404: stackNotFound },
    },
    async ({ params }, _req, res) => {
      await deps.stacks.delete(params.id!);
      res.status(204).end();
    },
  );
  api.route<{ limit?: number }>(
    {
      method: 'get',
      path: '/stacks/:id/runs',
      summary: "A stack's runs, most recent first",
      auth: admin,
      query: listRunsQuerySchema,
      responses: {
        200: { description: 'the runs', schema: runListSchema, example: { runs: [runExample] } },
        400: validationError('limit'),
        404: stackNotFound,
      },
    },
    async ({ params, query }, _req, res) => {
      res.json({ runs: await deps.stacks.runs(params.id!, query.limit) });
    },
  );
  api.route<undefined, ManualRunRequest>(
    {
      method: 'post',
      path: '/stacks/:id/runs',
      summary: 'A manual run of a commit',
      description: '201 with the new run, or 200 with the existing run of that stack, commit and type.',
      auth: admin,
      body: manualRunSchema,
      bodyExample: { commit: 'a'.repeat(40), type: 'tracked' },
      responses: {
        201: { description: 'a new run', schema: runSchema, example: runExample },
        200: { description: 'the run of that commit that already exists', schema: runSchema },
        400: validationError('commit'),
        404: stackNotFound,
      },
    },
    async ({ params, body }, _req, res) => {
      const { run, created } = await deps.triggerManualRun(params.id!, body);
      res.status(created ? 201 : 200).json(run);
    },
  );
  return api;
}

/**
 * A stack as the API shows it: with the keys it carries in Bitbucket, the build key to add under the
 * repository's required builds and the Code Insights report key (README "Require a stack before merging").
 */
function withBitbucketKeys(stack: Stack): Stack & { bitbucket: { buildKey: string; reportKey: string } } {
  return { ...stack, bitbucket: { buildKey: buildKeyFor(stack.id), reportKey: reportKeyFor(stack.id) } };
}
