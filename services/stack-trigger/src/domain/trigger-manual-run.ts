import { AppError } from '@stacklink/errors';
import { branchRef } from './refs';
import type { Run, RunType } from './model';
import type { StackRepositoryPort } from './ports';
import { dispatchRuns, queueRun, type QueueRunDeps } from './queue-run';

export interface ManualRunRequest {
  commit: string;
  type?: RunType;
  ref?: string;
  note?: string;
}

/** `POST /stacks/{id}/runs`: an operator asks for a run; the same (stack, commit, type) gives the same run. */
export function createTriggerManualRun(deps: QueueRunDeps & { stacks: StackRepositoryPort }) {
  return async (stackId: string, request: ManualRunRequest): Promise<{ run: Run; created: boolean }> => {
    const stack = await deps.stacks.get(stackId);
    if (stack === undefined) throw new AppError('STACK.NOT_FOUND', `no stack ${stackId}`, { status: 404 });
    if (!stack.enabled) {
      throw new AppError(
        'STACK.DISABLED',
        `stack ${stackId} is disabled${stack.disabledReason === undefined ? '' : ` (${stack.disabledReason})`}; enable it with PATCH {"enabled": true} first`,
        { status: 409 },
      );
    }
    const result = await queueRun(deps, stack, {
      stackId,
      type: request.type ?? 'tracked',
      commit: request.commit.toLowerCase(),
      ref: request.ref ?? branchRef(stack.branch),
      trigger: { kind: 'manual' },
      ...(request.note === undefined ? {} : { note: request.note }),
    });
    await dispatchRuns(deps, stack);
    return result;
  };
}
