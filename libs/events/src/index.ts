export {
  SPEC_VERSION,
  PROVIDER,
  EVENT_TYPES,
  EVENT_KEY_BY_TYPE,
  SUBSCRIBED_EVENT_KEYS,
  IGNORED_EVENT_KEYS,
  eventTypeForKey,
} from './event-types';
export type { EventType, PullRequestEventType, ReviewEventType } from './event-types';
export type {
  CanonicalEvent,
  EventOfType,
  EventEnvelope,
  EventUser,
  EventRepository,
  RepositoryRef,
  PushEvent,
  PushDetails,
  PushChange,
  PullRequestEvent,
  PlainPullRequestEventType,
  PullRequestReviewEvent,
  PullRequestCommentEvent,
  PullRequestDetails,
  PullRequestSide,
  RefAtCommit,
  ReviewDetails,
  ReviewStatus,
  CommentDetails,
} from './canonical-event';
export { EVENT_SCHEMAS, COMMIT_HASH, validateEvent } from './event-schema';
export type { ValidateEventOptions, FieldError } from './event-schema';
export { payloadSchemaFor, STRING_BOUNDS } from './bitbucket-payload';
export { normalize } from './normalize';
export type { NormalizeInput, NormalizeResult } from './normalize';
export { VCS_EVENTS_EXCHANGE, routingKeyFor, toBusMessage } from './to-bus-message';
export type { BusMessage, EventMessageHeaders, ToBusMessageOptions } from './to-bus-message';
export { subscribeEvents, vcsEventsQueue } from './subscribe';
export type { EventHandler } from './subscribe';
