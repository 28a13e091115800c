export { startSimulator } from './simulator';
export type {
  BitbucketSimulator,
  FileSpec,
  PullRequestResult,
  PushResult,
  RefUpdate,
  ScenarioResult,
  SimulatorOptions,
} from './simulator';
export type { Delivery, WebhookTarget } from './delivery';
export type { Fault } from './rest';
export { WEBHOOK_EVENTS } from './rest';
export type { RateLimitOptions } from './rate-limit';
export type {
  Permission,
  RepositoryPermission,
  RecordedRequest,
  RecordedStatus,
  ReviewStatus,
  SimComment,
  SimProject,
  SimPullRequest,
  SimRepository,
  SimUser,
  SimWebhook,
  SimulatorState,
} from './state';
