import type { QueueSpec } from '@stacklink/bus';

/**
 * The few names of the `runs` exchange contract a runner needs. The contract itself is
 * services/stack-trigger/src/run-messages.ts; a real runner would not import our code, so neither does
 * this one — test/unit/contract.test.ts checks these stay equal to it.
 */
export const RUNS_EXCHANGE = 'runs';
export const RUN_READY = 'run.ready';
export const RUNS_READY_QUEUE = 'runs.ready';

/** Must be declared exactly as stack-trigger declares it: RabbitMQ refuses different arguments. */
export const runsReadyQueueSpec: QueueSpec = {
  name: RUNS_READY_QUEUE,
  bindings: [{ exchange: RUNS_EXCHANGE, pattern: RUN_READY }],
  retry: { delaysMs: [1000, 5000, 30000] },
};

/** The fields of a `run.ready` message (specVersion 1) the runner reads; others may be added. */
export interface ReadyRun {
  specVersion: 1;
  type: typeof RUN_READY;
  runId: string;
  version: number;
  state: string;
  runType: 'tracked' | 'proposed';
  commit: string;
  ref: string;
  pullRequest?: { id: number; sourceRef: string; targetRef: string; url?: string };
  stack: {
    id: string;
    name: string;
    integrationId: string;
    repository: { projectKey: string; slug: string };
    projectRoot: string;
  };
}
