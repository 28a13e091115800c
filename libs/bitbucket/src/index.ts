export { createBitbucketClient } from './client';
export type {
  BitbucketClient,
  BitbucketClientOptions,
  BuildCapabilities,
  BuildStatusResult,
  ChangedFiles,
  Credentials,
  RepositoryQuery,
  ServerVersion,
  WebhookCapabilities,
} from './client';
export { BitbucketErrorCode, mayHaveLanded, networkFailureOf } from './errors';
export type { BitbucketError, BitbucketErrorDetails, NetworkFailure } from './errors';
export { sign, verifySignature, SIGNATURE_ALGORITHMS } from './signature';
export { formatWebhookScope, isWithinScope, parseWebhookScope, scopedWebhookSecret } from './webhook-scope';
export type { WebhookScope } from './webhook-scope';
export type { SignatureAlgorithm, SignatureFailure, SignatureVerification } from './signature';
export { parseBitbucketDate, isBitbucketDate } from './dates';
export { collectPages } from './paging';
export type { Collected, PageRequest, PagingLimits } from './paging';
export { backoffDelay, parseRetryAfter, DEFAULT_RETRY } from './retry';
export type { RetryOptions } from './retry';
export { splitCommentText, MAX_COMMENT_LENGTH } from './split-comment';
export * from './models/rest';
export type { HostGate, HostAdmission, HostVerdict } from './host-gate';
export {
  authorizationUrl,
  codeChallengeOf,
  createCodeVerifier,
  exchangeAuthorizationCode,
  refreshAccessToken,
  repositoryAccess,
  tokenUsername,
} from './oauth';
export type { OAuthClientConfig, OAuthTokens, UserTokenTarget } from './oauth';
