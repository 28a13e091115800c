import type { CanonicalEvent } from './canonical-event';
import type { Stack } from './model';
import type { StackRepositoryPort } from './ports';

/**
 * The enabled stacks of the event's repository. A disabled stack starts no runs and is not named by
 * comment commands: as if it did not exist.
 */
export function createFindStacksOfRepository(deps: { stacks: StackRepositoryPort }) {
  return async (event: CanonicalEvent): Promise<Stack[]> => {
    const stacks = await deps.stacks.listByRepository(event.integrationId, {
      projectKey: event.repository.projectKey,
      slug: event.repository.slug,
    });
    return stacks.filter((s) => s.enabled);
  };
}
