import type { QueueSpec, Topology } from '@stacklink/bus';
import { VCS_EVENTS_EXCHANGE, vcsEventsQueue } from '@stacklink/events';
import type { Run, Stack } from './domain/model';

/**
 * The contract between stack-trigger roles and runners on the `runs` exchange (docs/architecture.md §1, §8).
 * Additive changes only within specVersion 1; a runner written against this keeps working.
 */
export const RUNS_EXCHANGE = 'runs';
export const RUN_STATE_CHANGED = 'run.state_changed';
export const RUN_READY = 'run.ready';

/** Queue names of docs/architecture.md §2 (their depth is what each role scales on). */
export const VCS_EVENTS_QUEUE = 'stack-trigger.vcs-events';
export const STATUS_UPDATES_QUEUE = 'stack-trigger.status-updates';
export const RUNS_READY_QUEUE = 'runs.ready';

export interface RunMessage {
  specVersion: 1;
  type: typeof RUN_STATE_CHANGED | typeof RUN_READY;
  runId: string;
  /** Run version at the time of the message: reporters drop anything older than what they posted. */
  version: number;
  state: Run['state'];
  runType: Run['type'];
  commit: string;
  ref: string;
  note?: string;
  pullRequest?: Run['pullRequest'];
  trigger: Run['trigger'];
  stack: {
    id: string;
    name: string;
    integrationId: string;
    repository: { projectKey: string; slug: string };
    projectRoot: string;
  };
  occurredAt: string;
}

export function toRunMessage(type: RunMessage['type'], run: Run, stack: Stack, now = new Date()): RunMessage {
  return {
    specVersion: 1,
    type,
    runId: run.id,
    version: run.version,
    state: run.state,
    runType: run.type,
    commit: run.commit,
    ref: run.ref,
    ...(run.note === undefined ? {} : { note: run.note }),
    ...(run.pullRequest === undefined ? {} : { pullRequest: run.pullRequest }),
    trigger: run.trigger,
    stack: {
      id: stack.id,
      name: stack.name,
      integrationId: stack.integrationId,
      repository: { ...stack.repository },
      projectRoot: stack.projectRoot,
    },
    occurredAt: now.toISOString(),
  };
}

/** AMQP headers for filtering below the routing key. */
export function runMessageHeaders(m: RunMessage): Record<string, string | number> {
  return {
    runId: m.runId,
    stackId: m.stack.id,
    integrationId: m.stack.integrationId,
    state: m.state,
    version: m.version,
  };
}

const retry = { delaysMs: [1000, 5000, 30000, 120000] };

export const vcsEventsQueueSpec: QueueSpec = vcsEventsQueue(
  VCS_EVENTS_QUEUE,
  ['bitbucket-dc.push', 'bitbucket-dc.pull_request.*'],
  retry,
);
export const statusUpdatesQueueSpec: QueueSpec = {
  name: STATUS_UPDATES_QUEUE,
  bindings: [{ exchange: RUNS_EXCHANGE, pattern: RUN_STATE_CHANGED }],
  retry,
};
export const runsReadyQueueSpec: QueueSpec = {
  name: RUNS_READY_QUEUE,
  bindings: [{ exchange: RUNS_EXCHANGE, pattern: RUN_READY }],
  retry: { delaysMs: [1000, 5000, 30000] },
};

/**
 * Every role asserts the whole stack-trigger topology, so whichever starts first creates the queues
 * the others publish into (a publish is `mandatory`: it must never vanish for lack of a queue).
 */
export const stackTriggerTopology: Topology = {
  exchanges: [{ name: VCS_EVENTS_EXCHANGE }, { name: RUNS_EXCHANGE }],
  queues: [vcsEventsQueueSpec, statusUpdatesQueueSpec, runsReadyQueueSpec],
};
