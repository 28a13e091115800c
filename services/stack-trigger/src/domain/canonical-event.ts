/**
 * The canonical event of docs/architecture.md §6, as libs/events defines it; the trigger rules read these
 * types.
 */
export type {
  CanonicalEvent,
  CommentDetails,
  EventRepository,
  EventUser,
  PlainPullRequestEventType,
  PullRequestCommentEvent,
  PullRequestDetails,
  PullRequestEvent,
  PullRequestReviewEvent,
  PullRequestSide,
  PushChange,
  PushEvent,
  RepositoryRef,
  ReviewDetails,
  ReviewEventType,
} from '@stacklink/events';
