import type { RunState, RunType } from './model';

/**
 * Build states Bitbucket knows (docs/architecture.md §8); CANCELLED only on servers with rich build statuses.
 */
export type CommitStatusState = 'INPROGRESS' | 'SUCCESSFUL' | 'FAILED' | 'CANCELLED';

/** What the reporter posts for one run state; the Bitbucket client sends the fields its API takes. */
export interface CommitStatus {
  key: string;
  state: CommitStatusState;
  url: string;
  name: string;
  description: string;
  /** The ref the run came from; the repository-scoped API shows it, the legacy one drops it. */
  ref: string;
  buildNumber: string;
  /**
   * The stack's key again: Bitbucket's required-builds merge check matches a build by its key or its
   * parent, so a stack is required by this one key whatever run reported (docs/architecture.md §8).
   */
  parent: string;
}

/** The parts of a `run.state_changed` message a commit status is made of. */
export interface RunStatusInput {
  runId: string;
  version: number;
  state: RunState;
  runType: RunType;
  ref: string;
  note?: string;
  stack: { id: string; name: string };
}

/** Bitbucket's limits (docs/architecture.md §8): longer values are refused with 400. */
export const MAX_KEY_LENGTH = 255;
export const MAX_URL_LENGTH = 450;
export const MAX_NAME_LENGTH = 255;
export const MAX_DESCRIPTION_LENGTH = 255;

const STATE: Readonly<Record<RunState, CommitStatusState>> = {
  QUEUED: 'INPROGRESS',
  RUNNING: 'INPROGRESS',
  FINISHED: 'SUCCESSFUL',
  FAILED: 'FAILED',
  CANCELED: 'CANCELLED',
};

/** How a run state reads to people, in statuses and comments. */
export const STATE_WORDS: Readonly<Record<RunState, string>> = {
  QUEUED: 'Queued',
  RUNNING: 'Running',
  FINISHED: 'Finished',
  FAILED: 'Failed',
  CANCELED: 'Canceled',
};

/**
 * The commit status of a run state (docs/architecture.md §8): key `stacklink/<stack id>`, name
 * `<stack name> (tracked|proposed)`, url `${PUBLIC_UI_URL}/stacks/{id}/runs/{runId}`. On a server
 * without the CANCELLED state a canceled run is posted FAILED, as the legacy API does.
 */
export function toCommitStatus(
  run: RunStatusInput,
  options: { publicUiUrl: string; cancelledSupported: boolean },
): CommitStatus {
  let state = STATE[run.state];
  if (state === 'CANCELLED' && !options.cancelledSupported) state = 'FAILED';
  const note = run.note?.trim();
  const key = buildKeyFor(run.stack.id);
  return {
    key,
    parent: key,
    state,
    url: runUrl(options.publicUiUrl, run.stack.id, run.runId),
    name: truncate(`${run.stack.name} (${run.runType})`, MAX_NAME_LENGTH),
    description: truncate(
      note ? `${STATE_WORDS[run.state]}: ${note}` : STATE_WORDS[run.state],
      MAX_DESCRIPTION_LENGTH,
    ),
    ref: run.ref,
    buildNumber: run.runId,
  };
}

/** The build key (and parent) of a stack's statuses: what to require in Bitbucket's required builds. */
export function buildKeyFor(stackId: string): string {
  return truncate(`stacklink/${stackId}`, MAX_KEY_LENGTH);
}

/** The run's page; over 450 characters (a very long PUBLIC_UI_URL) it falls back to the UI's base. */
export function runUrl(publicUiUrl: string, stackId: string, runId: string): string {
  const base = publicUiUrl.replace(/\/+$/, '');
  const url = `${base}/stacks/${encodeURIComponent(stackId)}/runs/${encodeURIComponent(runId)}`;
  if (url.length <= MAX_URL_LENGTH) return url;
  return base.length <= MAX_URL_LENGTH ? base : new URL(base).origin;
}

function truncate(value: string, max: number): string {
  if (value.length <= max) return value;
  return `${value.slice(0, max - 1)}…`;
}
