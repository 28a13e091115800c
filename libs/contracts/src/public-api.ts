import type { DeliveryOutcome } from './deliveries';
import type { RunSummary } from './run-summary';
import type { RunPullRequest, RunState, RunTrigger, RunType, TriggerKind } from './runs';
import type { WebhookHealthEntry, WebhookMode, WebhookScopeSetting } from './webhook-health';

/**
 * The answers of the public APIs (`/api/v1`) as their clients read them: the console and the
 * `stacklink` command. The services document the same shapes as JSON Schema in their OpenAPI
 * documents (services/*\/src/http/answers.ts), and the OpenAPI tests check real answers against them.
 * Answers may grow fields; a client reads what it knows.
 */

export interface RepositoryRef {
  projectKey: string;
  slug: string;
}

// --- integration service ---------------------------------------------------------------------------

export interface IntegrationAnswer {
  id: string;
  name: string;
  apiHost: string;
  userFacingHost: string;
  username: string;
  description?: string;
  labels: string[];
  createdAt: string;
  updatedAt: string;
  /** The secret is in the answer once: when the integration is created or its secret rotated. */
  webhook: { endpoint: string; secret?: string; previousSecretValidUntil?: string };
  /** Managed or manual webhooks (docs/architecture.md §14). */
  webhooks?: { mode: WebhookMode; scope: WebhookScopeSetting };
  /** The "sign in with Bitbucket" client; its secret is never shown. */
  oauth?: { clientId: string; configured: boolean };
}

export interface ConnectionCheck {
  name: string;
  ok: boolean;
  /** What was found and, on failure, what to change. */
  message: string;
  skipped?: boolean;
}

/** `POST /api/v1/integrations/{id}/test`. */
export interface ConnectionReportAnswer {
  ok: boolean;
  serverVersion?: string;
  checks: ConnectionCheck[];
}

/** `GET /api/v1/integrations/{id}/webhooks`: the setting and each webhook's health (docs/architecture.md §14). */
export interface IntegrationWebhooksAnswer {
  integrationId: string;
  mode: WebhookMode;
  scope: WebhookScopeSetting;
  /** Said when the answer needs a word, e.g. that manual mode leaves hooks as they are. */
  note?: string;
  webhooks: WebhookHealthEntry[];
}

// --- stack-trigger --------------------------------------------------------------------------------

export interface StackAnswer {
  id: string;
  name: string;
  integrationId: string;
  repository: RepositoryRef;
  branch: string;
  projectRoot: string;
  additionalProjectGlobs: string[];
  triggerOnTags: boolean;
  allowForks: boolean;
  labels: string[];
  prComments: boolean;
  enabled: boolean;
  disabledReason?: string;
  /** The build status key to require in Bitbucket's required builds, and the Code Insights report key. */
  bitbucket: { buildKey?: string; reportKey?: string };
  createdAt: string;
  updatedAt: string;
}

export interface RunTransition {
  state: RunState;
  at: string;
}

/** A run as lists and the run resource answer it. */
export interface RunAnswer {
  id: string;
  stackId: string;
  type: RunType;
  commit: string;
  ref: string;
  state: RunState;
  version: number;
  sequence: number;
  pullRequest?: RunPullRequest;
  trigger: RunTrigger;
  note?: string;
  canceledBy?: 'operator';
  transitions?: RunTransition[];
  startedAt?: string;
  summary?: RunSummary;
  createdAt: string;
  updatedAt: string;
}

/** `GET /api/v1/runs`: newest first, a page at a time. */
export interface RunsPageAnswer {
  runs: RunAnswer[];
  next: string | null;
}

/** `GET /api/v1/runs/{id}`: the run with its timeline, what triggered it, its stack and Bitbucket links. */
export interface RunViewAnswer extends Omit<RunAnswer, 'trigger' | 'transitions'> {
  transitions: RunTransition[];
  trigger: {
    kind: TriggerKind;
    eventId?: string;
    deliveryId?: string;
    commit: string;
    branch?: string;
    pullRequest?: RunPullRequest;
  };
  stack?: { id: string; name: string; repository?: RepositoryRef };
  links: { commit?: string; pullRequest?: string };
}

export interface DeliveryRecordAnswer {
  deliveryId: string;
  integrationId: string;
  eventKey: string;
  scope?: string;
  receivedAt: string;
  status: number;
  outcome: DeliveryOutcome;
  reason?: string;
  eventId?: string;
}

/** `GET /api/v1/deliveries`. */
export interface DeliveriesPageAnswer {
  deliveries: DeliveryRecordAnswer[];
  nextCursor?: string;
}

export const STACK_DECISION_OUTCOMES = [
  'run-created',
  'existing-run',
  'run-canceled',
  'run-retried',
  'skipped',
] as const;
export type StackDecisionOutcome = (typeof STACK_DECISION_OUTCOMES)[number];

/** What the trigger decided for one stack, with the reason in a code and in words. */
export interface StackDecisionAnswer {
  stackId: string;
  stackName?: string;
  outcome: StackDecisionOutcome;
  reason?: string;
  detail?: string;
  runId?: string;
}

/** `GET /api/v1/deliveries/{id}`: the delivery's records, its event, the decisions and their runs. */
export interface DeliveryViewAnswer {
  deliveryId: string;
  records: DeliveryRecordAnswer[];
  event?: {
    id: string;
    type: string;
    integrationId: string;
    repository: RepositoryRef;
    receivedAt: string;
    summary: string;
  };
  decisions: {
    eventId: string;
    decidedAt: string;
    redeliveryOf?: string;
    summary?: string;
    stacks: StackDecisionAnswer[];
    runIds?: string[];
  }[];
  runs: RunAnswer[];
}

/** A message parked on a dead-letter queue (`GET /internal/v1/dead-letters`). */
export interface ParkedMessageAnswer {
  messageId?: string;
  errorCode?: string;
  errorMessage?: string;
  attempts?: number;
  firstFailedAt?: string;
  exchange?: string;
  routingKey?: string;
  body?: unknown;
}

export interface ParkedMessagesAnswer {
  queue: string;
  messages: ParkedMessageAnswer[];
}
