import { AppError } from '@stacklink/errors';
import type { Logger } from '@stacklink/logger';
import type { RepositoryCoordinates, Run, RunPullRequest, RunTransition, TriggerKind } from './model';
import type { RunRepositoryPort, StackRepositoryPort } from './ports';

/** Where an integration's people browse Bitbucket (its user-facing host), when the integration is known. */
export interface IntegrationHostsPort {
  userFacingHost(integrationId: string): Promise<string | undefined>;
}

/** `GET /runs/{id}`: the run with its timeline, what triggered it, its stack and links into Bitbucket. */
export interface RunView extends Omit<Run, 'trigger'> {
  transitions: RunTransition[];
  trigger: {
    kind: TriggerKind;
    eventId?: string;
    deliveryId?: string;
    commit: string;
    /** The branch name, when the run's ref is a branch. */
    branch?: string;
    pullRequest?: RunPullRequest;
  };
  stack?: { id: string; name: string; repository: RepositoryCoordinates };
  links: { commit?: string; pullRequest?: string };
}

export function createShowRun(deps: {
  runs: RunRepositoryPort;
  stacks: StackRepositoryPort;
  hosts?: IntegrationHostsPort;
  logger: Logger;
}) {
  return async (runId: string): Promise<RunView> => {
    const run = await deps.runs.get(runId);
    if (run === undefined) throw new AppError('RUN.NOT_FOUND', `no run ${runId}`, { status: 404 });
    const stack = await deps.stacks.get(run.stackId);
    const branch = run.ref.startsWith('refs/heads/') ? run.ref.slice('refs/heads/'.length) : undefined;
    const links: RunView['links'] = {};
    if (stack !== undefined && deps.hosts !== undefined) {
      // Links are a convenience: an integration service that does not answer leaves them out.
      const host = await deps.hosts.userFacingHost(stack.integrationId).catch((err: unknown) => {
        deps.logger.warn('user-facing host unknown: run links left out', { runId, err });
        return undefined;
      });
      if (host !== undefined) {
        const repo = `${host.replace(/\/+$/, '')}/projects/${encodeURIComponent(
          stack.repository.projectKey,
        )}/repos/${encodeURIComponent(stack.repository.slug)}`;
        links.commit = `${repo}/commits/${encodeURIComponent(run.commit)}`;
        if (run.pullRequest) links.pullRequest = `${repo}/pull-requests/${run.pullRequest.id}`;
      }
    }
    if (links.pullRequest === undefined && run.pullRequest?.url !== undefined)
      links.pullRequest = run.pullRequest.url;
    return {
      ...run,
      transitions: run.transitions ?? [{ state: run.state, at: run.updatedAt }],
      trigger: {
        ...run.trigger,
        commit: run.commit,
        ...(branch === undefined ? {} : { branch }),
        ...(run.pullRequest === undefined ? {} : { pullRequest: run.pullRequest }),
      },
      ...(stack === undefined
        ? {}
        : { stack: { id: stack.id, name: stack.name, repository: { ...stack.repository } } }),
      links,
    };
  };
}
