import { concurrentUpdate, integrationNotFound } from './integration-errors';
import type { IntegrationDeps, IntegrationRecord } from './ports';

const ATTEMPTS = 3;

/**
 * Read–modify–write with optimistic concurrency: `change` is applied to a fresh read and the write only
 * lands when nobody else wrote in between; otherwise it is tried again on the newer version.
 */
export async function modifyIntegration<T>(
  deps: Pick<IntegrationDeps, 'repository' | 'clock'>,
  id: string,
  change: (current: IntegrationRecord, now: Date) => { record: IntegrationRecord; result: T },
): Promise<{ record: IntegrationRecord; result: T }> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
    const current = await deps.repository.findById(id);
    if (current === undefined) throw integrationNotFound(id);
    const now = deps.clock.now();
    const changed = change(current, now);
    const record: IntegrationRecord = {
      ...changed.record,
      id: current.id,
      createdAt: current.createdAt,
      revision: current.revision + 1,
      updatedAt: now.toISOString(),
    };
    if (await deps.repository.update(record, current.revision)) return { record, result: changed.result };
  }
  if ((await deps.repository.findById(id)) === undefined) throw integrationNotFound(id);
  throw concurrentUpdate(id);
}
