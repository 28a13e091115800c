import path from 'node:path';
import type { RunReadyMessage } from '@stacklink/contracts';

/** What the command sees of its run: STACKLINK_* variables (README "Runner contract"). */
export function runEnvironment(run: RunReadyMessage): Record<string, string> {
  return {
    STACKLINK_RUN_ID: run.runId,
    STACKLINK_RUN_TYPE: run.runType,
    STACKLINK_RUN_VERSION: String(run.version),
    STACKLINK_COMMIT: run.commit,
    STACKLINK_REF: run.ref,
    STACKLINK_STACK_ID: run.stack.id,
    STACKLINK_STACK_NAME: run.stack.name,
    STACKLINK_INTEGRATION_ID: run.stack.integrationId,
    STACKLINK_PROJECT_KEY: run.stack.repository.projectKey,
    STACKLINK_REPOSITORY: run.stack.repository.slug,
    STACKLINK_PROJECT_ROOT: run.stack.projectRoot,
    ...(run.pullRequest === undefined ? {} : { STACKLINK_PULL_REQUEST_ID: String(run.pullRequest.id) }),
  };
}

/** Where the command may write its plan and its findings (README "Run summary"): two files in `dir`. */
export function summaryFileEnvironment(
  dir: string,
): Record<'STACKLINK_PLAN_JSON' | 'STACKLINK_ANNOTATIONS_JSON', string> {
  return {
    STACKLINK_PLAN_JSON: path.join(dir, 'plan.json'),
    STACKLINK_ANNOTATIONS_JSON: path.join(dir, 'annotations.json'),
  };
}
