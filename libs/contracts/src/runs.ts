import Joi from 'joi';
import type { Bus, ConsumerHandle, IncomingMessage, MessageHandler, QueueSpec } from '@stacklink/bus';
import { checkMessage, type CheckMode } from './check-message';
import { runSummarySchema, type RunSummary } from './run-summary';

/**
 * The `runs` exchange (docs/architecture.md §1, §8): what stack-trigger publishes about runs, for its
 * reporter and for runners. Additive changes only within specVersion 1; a runner written against this
 * keeps working.
 */
export const RUNS_EXCHANGE = 'runs';
export const RUN_READY = 'run.ready';
export const RUN_STATE_CHANGED = 'run.state_changed';
export const RUN_MESSAGE_TYPES = [RUN_READY, RUN_STATE_CHANGED] as const;
export type RunMessageType = (typeof RUN_MESSAGE_TYPES)[number];

/** Queue names of docs/architecture.md §2 (their depth is what each role scales on). */
export const STATUS_UPDATES_QUEUE = 'stack-trigger.status-updates';
export const RUNS_READY_QUEUE = 'runs.ready';

export const RUN_TYPES = ['tracked', 'proposed'] as const;
export type RunType = (typeof RUN_TYPES)[number];
export const RUN_STATES = ['QUEUED', 'RUNNING', 'FINISHED', 'FAILED', 'CANCELED'] as const;
export type RunState = (typeof RUN_STATES)[number];
/** `recovered`: an event no webhook brought, found by the reconciler's missed-event recovery (§14). */
export const TRIGGER_KINDS = ['push', 'pull_request', 'manual', 'comment', 'recovered'] as const;
export type TriggerKind = (typeof TRIGGER_KINDS)[number];

export interface RunTrigger {
  kind: TriggerKind;
  eventId?: string;
  deliveryId?: string;
}

export interface RunPullRequest {
  id: number;
  sourceRef: string;
  targetRef: string;
  url?: string;
}

/** One message on `runs`; its schema is runMessageSchemas[type]. */
export interface RunMessage<T extends RunMessageType = RunMessageType> {
  specVersion: 1;
  type: T;
  runId: string;
  /** Run version at the time of the message: reporters drop anything older than what they posted. */
  version: number;
  state: RunState;
  runType: RunType;
  commit: string;
  ref: string;
  note?: string;
  pullRequest?: RunPullRequest;
  /** When a runner took the run (RUNNING), once it has. */
  startedAt?: string;
  /** What the runner reported with the final state, when it did (run-summary.ts). */
  summary?: RunSummary;
  trigger: RunTrigger;
  stack: {
    id: string;
    name: string;
    integrationId: string;
    repository: { projectKey: string; slug: string };
    projectRoot: string;
  };
  occurredAt: string;
}
export type RunReadyMessage = RunMessage<typeof RUN_READY>;
export type RunStateChangedMessage = RunMessage<typeof RUN_STATE_CHANGED>;

const runMessageBody = {
  specVersion: Joi.number().valid(1).required(),
  runId: Joi.string().min(1).required(),
  version: Joi.number().integer().min(1).required(),
  state: Joi.string()
    .valid(...RUN_STATES)
    .required(),
  runType: Joi.string()
    .valid(...RUN_TYPES)
    .required(),
  commit: Joi.string().min(1).required(),
  ref: Joi.string().allow('').required(),
  note: Joi.string().allow(''),
  pullRequest: Joi.object({
    id: Joi.number().integer().required(),
    sourceRef: Joi.string().required(),
    targetRef: Joi.string().required(),
    url: Joi.string(),
  }),
  startedAt: Joi.string().isoDate(),
  summary: runSummarySchema,
  trigger: Joi.object({
    kind: Joi.string()
      .valid(...TRIGGER_KINDS)
      .required(),
    eventId: Joi.string(),
    deliveryId: Joi.string(),
  }).required(),
  stack: Joi.object({
    id: Joi.string().min(1).required(),
    name: Joi.string().min(1).required(),
    integrationId: Joi.string().min(1).required(),
    repository: Joi.object({ projectKey: Joi.string().required(), slug: Joi.string().required() }).required(),
    projectRoot: Joi.string().allow('').required(),
  }).required(),
  occurredAt: Joi.string().isoDate().required(),
};

/** The one schema of each message on `runs`; the two differ only in `type`. */
export const runMessageSchemas: Record<RunMessageType, Joi.ObjectSchema> = {
  [RUN_READY]: Joi.object({ ...runMessageBody, type: Joi.string().valid(RUN_READY).required() }),
  [RUN_STATE_CHANGED]: Joi.object({
    ...runMessageBody,
    type: Joi.string().valid(RUN_STATE_CHANGED).required(),
  }),
};

/**
 * A message of `type`, checked in `mode`; throws RUNS.INVALID_MESSAGE (400, not retryable) naming the
 * first bad field.
 */
export function validateRunMessage<T extends RunMessageType>(
  type: T,
  value: unknown,
  mode: CheckMode,
): RunMessage<T> {
  return checkMessage<RunMessage<T>>(runMessageSchemas[type], value, {
    mode,
    code: 'RUNS.INVALID_MESSAGE',
    what: `${type} message`,
  });
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

/**
 * Publishes a run message on `runs` with the type as routing key, after checking it strictly. The
 * message id is `${runId}:${version}:${type}`: announcing the same state again sends a recognisably
 * identical message. Resolves once the broker confirmed it.
 */
export async function publishRunMessage(bus: Pick<Bus, 'publish'>, message: RunMessage): Promise<void> {
  const valid = validateRunMessage(message.type, message, 'producer');
  await bus.publish(RUNS_EXCHANGE, valid.type, valid, {
    messageId: `${valid.runId}:${valid.version}:${valid.type}`,
    headers: runMessageHeaders(valid),
  });
}

export type RunMessageHandler<T extends RunMessageType> = (
  message: RunMessage<T>,
  incoming: IncomingMessage,
) => Promise<void>;

/**
 * Consumes `queue` (bound to `type`): each message is checked in consumer mode before the handler runs;
 * one that does not conform is dead-lettered at once (RUNS.INVALID_MESSAGE is not retryable).
 */
export function subscribeRunMessages<T extends RunMessageType>(
  bus: Pick<Bus, 'consume'>,
  queue: string,
  type: T,
  handler: RunMessageHandler<T>,
  options?: Parameters<Bus['consume']>[2],
): Promise<ConsumerHandle> {
  return bus.consume(queue, handleRunMessages(type, handler), options);
}

/**
 * The bus handler of a queue bound to `type`: checks each message in consumer mode, then calls `handler`
 * with it typed; one that does not conform is dead-lettered at once (RUNS.INVALID_MESSAGE is not retryable).
 */
export function handleRunMessages<T extends RunMessageType>(
  type: T,
  handler: RunMessageHandler<T>,
): MessageHandler {
  return async (incoming) => handler(validateRunMessage(type, incoming.body, 'consumer'), incoming);
}

const retry = { delaysMs: [1000, 5000, 30000, 120000] };

/** The reporter's queue: every `run.state_changed`. */
export const statusUpdatesQueueSpec: QueueSpec = {
  name: STATUS_UPDATES_QUEUE,
  bindings: [{ exchange: RUNS_EXCHANGE, pattern: RUN_STATE_CHANGED }],
  retry,
};

/** The runners' queue: every `run.ready`. Shorter retries: a runner that cannot start a run hands it back. */
export const runsReadyQueueSpec: QueueSpec = {
  name: RUNS_READY_QUEUE,
  bindings: [{ exchange: RUNS_EXCHANGE, pattern: RUN_READY }],
  retry: { delaysMs: [1000, 5000, 30000] },
};

/** Retry delays of the stack-trigger workers' queues: 1 s, 5 s, 30 s, 2 min (docs/architecture.md §9). */
export const WORKER_RETRY: NonNullable<QueueSpec['retry']> = retry;
