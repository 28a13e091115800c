// @stacklink/contracts: everything that crosses a process boundary besides the canonical vcs events
// (libs/events), whose exchange and helpers are re-exported here for one import.

export type { CheckMode } from './check-message';

// `vcs.events` (owned by libs/events; webhook-gateway publishes).
export { VCS_EVENTS_EXCHANGE, routingKeyFor, subscribeEvents, vcsEventsQueue } from '@stacklink/events';

// `runs` (stack-trigger publishes; its reporter and runners consume).
export {
  RUNS_EXCHANGE,
  RUN_READY,
  RUN_STATE_CHANGED,
  RUN_MESSAGE_TYPES,
  RUNS_READY_QUEUE,
  STATUS_UPDATES_QUEUE,
  RUN_TYPES,
  RUN_STATES,
  TRIGGER_KINDS,
  WORKER_RETRY,
  runMessageSchemas,
  validateRunMessage,
  runMessageHeaders,
  publishRunMessage,
  subscribeRunMessages,
  handleRunMessages,
  runsReadyQueueSpec,
  statusUpdatesQueueSpec,
} from './runs';
export type {
  RunMessage,
  RunMessageType,
  RunReadyMessage,
  RunStateChangedMessage,
  RunMessageHandler,
  RunType,
  RunState,
  TriggerKind,
  RunTrigger,
  RunPullRequest,
} from './runs';

// The run summary a runner sends with a final state (carried in `run.state_changed`).
export {
  ANNOTATION_SEVERITIES,
  MAX_RUN_ANNOTATIONS,
  MAX_ANNOTATION_MESSAGE_LENGTH,
  runAnnotationSchema,
  runSummarySchema,
  runStateRequestSchema,
} from './run-summary';
export type { AnnotationSeverity, RunAnnotation, RunSummary, RunStateRequest } from './run-summary';

// `integration.events` (the integration service publishes; gateways consume).
export {
  INTEGRATION_EVENTS_EXCHANGE,
  INTEGRATION_EVENT_TYPES,
  ALL_INTEGRATION_EVENTS,
  integrationEventSchema,
  validateIntegrationEvent,
  publishIntegrationEvent,
  subscribeIntegrationEvents,
  handleIntegrationEvents,
  integrationEventsQueue,
} from './integration-events';
export type { IntegrationEvent, IntegrationEventType, IntegrationEventHandler } from './integration-events';

// `deliveries` (the gateway publishes its delivery records; stack-trigger stores them) and redelivery.
export {
  DELIVERIES_EXCHANGE,
  DELIVERY_RECORDS_ROUTING_KEY,
  DELIVERY_RECORDS_QUEUE,
  DELIVERY_OUTCOMES,
  DELIVERY_RECORD_LIMITS,
  MAX_RECORDS_PER_MESSAGE,
  REDELIVERY_OF_HEADER,
  deliveryRecord,
  deliveryRecordsMessageSchema,
  deliveryRecordsQueueSpec,
  validateDeliveryRecords,
  publishDeliveryRecords,
  subscribeDeliveryRecords,
  redeliveryOf,
  publishRedelivery,
} from './deliveries';
export type { DeliveryRecord, DeliveryRecordsMessage, DeliveryOutcome } from './deliveries';

// What each process asserts on the broker, and who owns what.
export {
  vcsEventsExchange,
  runsExchange,
  integrationEventsExchange,
  deliveriesExchange,
  VCS_EVENTS_QUEUE,
  vcsEventsQueueSpec,
  GATEWAY_INTEGRATION_EVENTS_QUEUE_PREFIX,
  gatewayIntegrationEventsQueue,
  stackTriggerTopology,
  stackTriggerTopologyWith,
  stackEventsExchange,
  reconcilerTopology,
  BITBUCKET_WAIT,
  runnerTopology,
  integrationTopology,
  gatewayTopology,
} from './topologies';
export type { StackTriggerQueueOptions } from './topologies';
export { SERVICES, EXCHANGE_OWNERS, QUEUE_OWNERS, queueOwnership, topologyProblems } from './ownership';
export type { ServiceName, QueueOwnership } from './ownership';

// Internal HTTP APIs (`/internal/v1`).
export type { InternalClientOptions } from './internal-http';
export {
  createIntegrationApiClient,
  webhookSecretsAnswerSchema,
  credentialsAnswerSchema,
  oauthClientAnswerSchema,
  oauthClientInputSchema,
  webhookSecretsPath,
  credentialsPath,
  oauthClientPath,
} from './integration-api';
export type {
  IntegrationApiClient,
  WebhookSecretsAnswer,
  IntegrationCredentials,
  IntegrationOAuthClient,
} from './integration-api';
export {
  createStackTriggerApiClient,
  stacksAnswerSchema,
  stacksUsingPath,
  disableStacksPath,
} from './stack-trigger-api';
export type {
  StackTriggerApiClient,
  StackUsage,
  StacksAnswer,
  DisableStacksRequest,
} from './stack-trigger-api';

// Run logs (`POST/GET /api/v1/runs/{id}/logs`, the event stream): runners send, stack-trigger stores.
export {
  LOG_STREAMS,
  RUN_LOG_LIMITS,
  RUN_LOG_STREAM_EVENTS,
  logChunkSchema,
  appendRunLogRequestSchema,
  appendRunLogAnswerSchema,
  runLogPageSchema,
  runLogsPath,
  runLogStreamPath,
} from './run-logs';
export type { LogStream, LogChunk, AppendRunLogRequest, AppendRunLogAnswer, RunLogPage } from './run-logs';

// `stack.events` (stack-trigger's API publishes stack changes; its reconciler consumes them with
// integration events, docs/architecture.md §14).
export {
  STACK_EVENTS_EXCHANGE,
  STACK_EVENT_TYPES,
  ALL_STACK_EVENTS,
  stackEventSchema,
  validateStackEvent,
  publishStackEvent,
  RECONCILER_CHANGES_QUEUE_PREFIX,
  reconcilerChangesQueue,
  reconcilerChangesQueueSpec,
  subscribeReconcilerChanges,
} from './stack-events';
export type { StackEvent, StackEventType, ReconcilerChange } from './stack-events';

// Managed webhooks: an integration's setting and each repository's webhook health (§14).
export {
  WEBHOOK_MODES,
  WEBHOOK_SCOPES,
  WEBHOOK_HEALTH,
  DEFAULT_WEBHOOK_SETTINGS,
  webhookSettingsSchema,
  webhookHealthEntrySchema,
  webhookHealthAnswerSchema,
  integrationWebhooksAnswerSchema,
  webhookHealthPath,
  fetchWebhookHealth,
} from './webhook-health';
export type {
  WebhookMode,
  WebhookScopeSetting,
  WebhookSettings,
  WebhookHealth,
  WebhookHealthEntry,
  WebhookHealthAnswer,
} from './webhook-health';

// The public APIs' answers as clients read them (the console, the `stacklink` command).
export { STACK_DECISION_OUTCOMES } from './public-api';
export type {
  RepositoryRef,
  IntegrationAnswer,
  ConnectionCheck,
  ConnectionReportAnswer,
  IntegrationWebhooksAnswer,
  StackAnswer,
  RunTransition,
  RunAnswer,
  RunsPageAnswer,
  RunViewAnswer,
  DeliveryRecordAnswer,
  DeliveriesPageAnswer,
  StackDecisionOutcome,
  StackDecisionAnswer,
  DeliveryViewAnswer,
  ParkedMessageAnswer,
  ParkedMessagesAnswer,
} from './public-api';
