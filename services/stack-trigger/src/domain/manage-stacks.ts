import { AppError } from '@stacklink/errors';
import type { Logger } from '@stacklink/logger';
import type { NewStack, Run, Stack, StackPatch } from './model';
import type {
  IntegrationsPort,
  RunEventsPort,
  RunQueuePort,
  RunRepositoryPort,
  StackEventsPort,
  StackRepositoryPort,
} from './ports';
import { cancelQueuedRunsOf, createPublishBatch, stackDisabledNote } from './queue-run';

export interface ManageStacksDeps {
  stacks: StackRepositoryPort;
  runs: RunRepositoryPort;
  queue: RunQueuePort;
  integrations: IntegrationsPort;
  runEvents: RunEventsPort;
  logger: Logger;
  /** Stack changes for the reconciler; without it, it finds them at its next interval. */
  stackEvents?: StackEventsPort;
}

/** Stack CRUD behind the public API: a stack must name an integration that exists and a repository it can see. */
export function createManageStacks(deps: ManageStacksDeps) {
  const verify = async (integrationId: string, repository: Stack['repository']): Promise<void> => {
    const check = await deps.integrations.checkRepository(integrationId, repository);
    if (check === 'integration_not_found') {
      throw new AppError('STACK.INTEGRATION_NOT_FOUND', `integration ${integrationId} does not exist`, {
        status: 400,
        details: {
          fields: [{ field: 'integrationId', message: `integration ${integrationId} does not exist` }],
        },
      });
    }
    if (check === 'repository_not_found') {
      const name = `${repository.projectKey}/${repository.slug}`;
      throw new AppError(
        'STACK.REPOSITORY_NOT_FOUND',
        `repository ${name} does not exist on the integration's Bitbucket`,
        {
          status: 400,
          details: { fields: [{ field: 'repository', message: `repository ${name} not found` }] },
        },
      );
    }
    if (check === 'unverifiable') {
      deps.logger.warn('repository could not be verified; stack accepted', { integrationId, repository });
    }
  };
  const mustGet = async (id: string): Promise<Stack> => {
    const stack = await deps.stacks.get(id);
    if (stack === undefined) throw new AppError('STACK.NOT_FOUND', `no stack ${id}`, { status: 404 });
    return stack;
  };

  /**
   * A disabled stack starts nothing, and that includes what it had queued: its QUEUED runs (waiting, or
   * handed out with no runner started yet) are canceled, taken out of the Redis queue and announced, so
   * the reporter posts CANCELLED on their commits. RUNNING runs are left to finish: an infrastructure
   * change stopped half way is worse than one that completes. Run after the stack is saved disabled, so
   * a retried request (the API died in between) cancels what is left.
   */
  const cancelQueuedRuns = async (stack: Stack, note: string): Promise<Run[]> => {
    const publishes = createPublishBatch();
    const canceled = await cancelQueuedRunsOf(deps, stack, note, publishes);
    await publishes.settle();
    if (canceled.length > 0) {
      deps.logger.info('queued runs of a disabled stack canceled', {
        stackId: stack.id,
        runIds: canceled.map((r) => r.id),
      });
    }
    return canceled;
  };

  return {
    async create(input: NewStack): Promise<Stack> {
      await verify(input.integrationId, input.repository);
      const stack = await deps.stacks.create(input);
      deps.logger.info('stack created', { stackId: stack.id, integrationId: stack.integrationId });
      await deps.stackEvents?.stackChanged('stack.created', stack);
      return stack;
    },
    get: mustGet,
    list: (filter?: { integrationId?: string }) => deps.stacks.list(filter),
    async update(id: string, patch: StackPatch): Promise<Stack> {
      const current = await mustGet(id);
      if (patch.integrationId !== undefined || patch.repository !== undefined) {
        await verify(patch.integrationId ?? current.integrationId, patch.repository ?? current.repository);
      }
      // Enabling a stack again forgets why it was disabled.
      const updated = await deps.stacks.update(
        id,
        patch.enabled === true ? { ...patch, disabledReason: undefined } : patch,
      );
      if (updated === undefined) throw new AppError('STACK.NOT_FOUND', `no stack ${id}`, { status: 404 });
      if (patch.enabled === false) await cancelQueuedRuns(updated, stackDisabledNote());
      await deps.stackEvents?.stackChanged('stack.updated', updated);
      // A stack moved to another repository or integration leaves the old one maybe without stacks.
      if (
        updated.integrationId !== current.integrationId ||
        updated.repository.projectKey !== current.repository.projectKey ||
        updated.repository.slug !== current.repository.slug
      )
        await deps.stackEvents?.stackChanged('stack.updated', current);
      return updated;
    },
    async delete(id: string): Promise<void> {
      const stack = await mustGet(id);
      const active = (await deps.runs.listByStack(id, { limit: 1000 })).filter(
        (r) => r.state === 'QUEUED' || r.state === 'RUNNING',
      );
      if (!(await deps.stacks.delete(id)))
        throw new AppError('STACK.NOT_FOUND', `no stack ${id}`, { status: 404 });
      for (const run of active) await deps.queue.remove(run);
      deps.logger.info('stack deleted', { stackId: id, activeRunsDropped: active.length });
      await deps.stackEvents?.stackChanged('stack.deleted', stack);
    },
    /**
     * Disables every stack of an integration (the integration service deletes it with `?force=true`):
     * they start no runs until enabled again, and their queued runs are canceled. Idempotent; answers
     * the stacks concerned.
     */
    async disableForIntegration(integrationId: string, reason: string): Promise<Stack[]> {
      const stacks = await deps.stacks.list({ integrationId });
      const disabled: Stack[] = [];
      for (const stack of stacks) {
        const updated = stack.enabled
          ? await deps.stacks.update(stack.id, { enabled: false, disabledReason: reason })
          : stack;
        if (updated === undefined) continue;
        disabled.push(updated);
        await cancelQueuedRuns(updated, stackDisabledNote(reason));
      }
      deps.logger.info('stacks of an integration disabled', {
        integrationId,
        stackIds: disabled.map((s) => s.id),
        reason,
      });
      return disabled;
    },
    async runs(id: string, limit?: number): Promise<Run[]> {
      await mustGet(id);
      return deps.runs.listByStack(id, limit === undefined ? {} : { limit });
    },
  };
}

export type ManageStacks = ReturnType<typeof createManageStacks>;
