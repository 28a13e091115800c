import { AppError } from '@stacklink/errors';
import { announceChange } from './announce-change';
import { integrationNotFound } from './integration-errors';
import type { IntegrationDeps } from './ports';

/**
 * Refuses while stacks use the integration (DESIGN.md §4), naming them, unless forced. When
 * stack-trigger cannot say, nothing is deleted (503): deleting blindly could orphan live stacks.
 */
export async function deleteIntegration(
  deps: IntegrationDeps,
  id: string,
  options: { force: boolean },
): Promise<void> {
  if ((await deps.repository.findById(id)) === undefined) throw integrationNotFound(id);
  if (!options.force) {
    const stacks = await deps.stackUsage.stacksUsing(id);
    if (stacks.length > 0) {
      const names = stacks.map((s) => `${s.name} (${s.id})`).join(', ');
      throw new AppError(
        'INTEGRATION.IN_USE',
        `integration ${id} is used by ${stacks.length} stack(s): ${names}; delete or move them first, or delete with ?force=true`,
        { status: 409, details: { stacks } },
      );
    }
  }
  if (!(await deps.repository.delete(id))) throw integrationNotFound(id);
  deps.logger.info('integration deleted', { integrationId: id, force: options.force });
  await announceChange(deps, 'integration.deleted', id);
}
