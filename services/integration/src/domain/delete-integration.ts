import { AppError } from '@stacklink/errors';
import { announceChange } from './announce-change';
import { integrationNotFound } from './integration-errors';
import type { IntegrationDeps } from './ports';

/**
 * Refuses while stacks use the integration (docs/architecture.md §4), naming them, unless forced. When
 * stack-trigger cannot say, nothing is deleted (503): deleting blindly could orphan live stacks.
 * Forced, it first asks stack-trigger to disable those stacks (they start no runs until moved to
 * another integration and enabled again). If stack-trigger cannot be reached the delete still goes
 * ahead, as forced, and the error log names the integration: its stacks stay enabled, but without the
 * integration the gateway accepts no webhook for them, so they receive no events anyway.
 */
export function createDeleteIntegration(
  deps: IntegrationDeps,
): (id: string, options: { force: boolean }) => Promise<void> {
  return async (id, options) => {
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
    if (options.force) {
      try {
        const disabled = await deps.stackUsage.disableStacksUsing(id, `integration ${id} was deleted`);
        if (disabled.length > 0)
          deps.logger.info('stacks disabled before a forced delete', {
            integrationId: id,
            stackIds: disabled.map((s) => s.id),
          });
      } catch (err) {
        deps.logger.error('stacks of a force-deleted integration could not be disabled', {
          integrationId: id,
          err,
        });
      }
    }
    if (!(await deps.repository.delete(id))) throw integrationNotFound(id);
    deps.logger.info('integration deleted', { integrationId: id, force: options.force });
    await announceChange(deps, 'integration.deleted', id);
  };
}
