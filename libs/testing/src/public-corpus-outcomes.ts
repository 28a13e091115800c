/**
 * What each capture of the public corpus `bitbucket-dc-more` must come out as, written out: a canonical
 * event type, `ignored` (a key we do not handle) or `rejected` (a handled key whose body cannot give a
 * valid event: hand-edited samples with a 39-digit commit id or an actor without id). The gateway's
 * fixture table and the normalizer's table both hold every capture to it.
 */
export const BITBUCKET_DC_MORE_OUTCOMES: Readonly<Record<string, string>> = {
  'bitrise__bitbucketserver_test.go-sampleCodePushData.json': 'rejected', // repo:refs_changed
  'bitrise__bitbucketserver_test.go-samplePRCommentAddedData.json': 'pull_request.comment_added', // pr:comment:added
  'bitrise__bitbucketserver_test.go-samplePRCommentEditedData.json': 'ignored', // pr:comment:edited
  'bitrise__bitbucketserver_test.go-samplePullRequestFromRefUpdatedData.json': 'pull_request.source_updated', // pr:from_ref_updated
  'bitrise__bitbucketserver_test.go-samplePullRequestModifiedData.json': 'pull_request.modified', // pr:modified
  'bitrise__bitbucketserver_test.go-sampleTagPushData.json': 'rejected', // repo:refs_changed
  'bitrise__metrics_test.go-testPushWebhookPayload.json': 'push', // repo:refs_changed
  'devinfra-tg__pull-request-comment_added.json': 'pull_request.comment_added', // pr:comment:added
  'devinfra-tg__pull-request-comment_deleted.json': 'ignored', // pr:comment:deleted
  'devinfra-tg__pull-request-comment_edited.json': 'ignored', // pr:comment:edited
  'devinfra-tg__pull-request_approved.json': 'pull_request.reviewer_approved', // pr:reviewer:approved
  'devinfra-tg__pull-request_declined.json': 'pull_request.declined', // pr:declined
  'devinfra-tg__pull-request_deleted.json': 'pull_request.deleted', // pr:deleted
  'devinfra-tg__pull-request_merged.json': 'pull_request.merged', // pr:merged
  'devinfra-tg__pull-request_needs-work.json': 'pull_request.reviewer_needs_work', // pr:reviewer:needs_work
  'devinfra-tg__pull-request_opened.json': 'pull_request.opened', // pr:opened
  'devinfra-tg__pull-request_unapproved.json': 'pull_request.reviewer_unapproved', // pr:reviewer:unapproved
  'devinfra-tg__repository_refs-changed.json': 'push', // repo:refs_changed
  'gwt__bitbucket-server-refs_changed.feature-docstring1.json': 'rejected', // repo:refs_changed
  'gwt__bitbucket-server-tag.feature-docstring1.json': 'push', // repo:refs_changed
  'gwt__bitbucket-server-tag.feature-docstring2.json': 'push', // repo:refs_changed
  'gwt__hmac-bitbucket-server-payload.json': 'ignored', // repo:comment:added
  'jenkins-bbpush__pr_comment_created.json': 'pull_request.comment_added', // pr:comment:added
  'jenkins-bbpush__pr_declined.json': 'pull_request.declined', // pr:declined
  'jenkins-bbpush__pr_from_ref_updated.json': 'rejected', // pr:from_ref_updated
  'jenkins-bbpush__pr_merged.json': 'rejected', // pr:merged
  'jenkins-bbpush__pr_modified.json': 'pull_request.modified', // pr:modified
  'jenkins-bbpush__pr_opened.json': 'pull_request.opened', // pr:opened
  'jenkins-bbpush__pr_opened_no_clone_property.json': 'pull_request.opened', // pr:opened
  'jenkins-bbpush__pr_reviewer_approved.json': 'pull_request.reviewer_approved', // pr:reviewer:approved
  'jenkins-bbpush__repo_refs_changed.json': 'rejected', // repo:refs_changed
  'ovh-cds__tasks_bitbucket_test.go-bitbucketMultiplePushEvent.json': 'push', // repo:refs_changed
  'ovh-cds__tasks_bitbucket_test.go-bitbucketPushEvent.json': 'push', // repo:refs_changed
  'zulip__pull_request_approved.json': 'pull_request.reviewer_approved', // pr:reviewer:approved
  'zulip__pull_request_merged.json': 'pull_request.merged', // pr:merged
  'zulip__pull_request_modified.json': 'pull_request.modified', // pr:modified
  'zulip__pull_request_needs_work.json': 'pull_request.reviewer_needs_work', // pr:reviewer:needs_work
  'zulip__pull_request_opened_without_reviewers.json': 'pull_request.opened', // pr:opened
  'zulip__pull_request_unapproved.json': 'pull_request.reviewer_unapproved', // pr:reviewer:unapproved
  'zulip__repo_forked.json': 'ignored', // repo:forked
  'zulip__repo_modified.json': 'ignored', // repo:modified
  'zulip__repo_push_delete_branch.json': 'push', // repo:refs_changed
  'zulip__repo_push_delete_tag.json': 'push', // repo:refs_changed
  'zulip__repo_push_update_multiple_branches.json': 'push', // repo:refs_changed
};
