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
export {
  INSIGHT_LIMITS,
  requiredBuildVetoes,
  validAnnotations,
  validReport,
  validReportKey,
} from './code-insights';
export type { MergeVeto, SimAnnotation, SimInsightReport } from './code-insights';
export { WEBHOOK_EVENTS } from './rest';
export { OAUTH_SCOPES, s256 } from './oauth';
export type { OAuthOptions } from './oauth';
export type { RateLimitOptions } from './rate-limit';
export type {
  Permission,
  RepositoryPermission,
  ProjectPermission,
  SimInvocation,
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
