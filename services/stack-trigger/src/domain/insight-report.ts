import type { RunAnnotation } from '@stacklink/contracts';
import { runUrl, STATE_WORDS, type RunStatusInput } from './commit-status';
import type { RunState, RunSummary } from './model';

/**
 * The Code Insights report of a run (docs/architecture.md §8): one per stack and commit, keyed
 * `stacklink-<stack id>`, so a later run of the stack on the same commit replaces it.
 */
export interface InsightReport {
  key: string;
  title: string;
  details: string;
  /** Absent while the run is queued or running, and for a canceled run: Bitbucket shows no verdict. */
  result?: 'PASS' | 'FAIL';
  reporter: string;
  link: string;
  data: InsightData[];
}

export type InsightData =
  | { title: string; type: 'TEXT'; value: string }
  | { title: string; type: 'NUMBER' | 'DURATION'; value: number };

/** The parts of a `run.state_changed` message a report is made of. */
export interface RunReportInput extends RunStatusInput {
  occurredAt: string;
  startedAt?: string;
  summary?: RunSummary;
}

/** Bitbucket's Code Insights limits; the simulator refuses more with 400, as Bitbucket does. */
export const REPORT_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const MAX_REPORT_KEY_LENGTH = 100;
export const MAX_REPORT_TITLE_LENGTH = 450;
export const MAX_REPORT_DETAILS_LENGTH = 2000;
export const MAX_REPORT_DATA = 6;
export const MAX_DATA_TITLE_LENGTH = 50;
/** Annotations sent per request: Bitbucket takes at most 1,000 at once. */
export const ANNOTATIONS_PAGE_SIZE = 1000;

/** The states a report is written for: while the run runs, and once it ended. */
export const REPORTED_STATES: readonly RunState[] = ['RUNNING', 'FINISHED', 'FAILED', 'CANCELED'];

/** The report key of a stack: what its Code Insights report is stored under on every commit. */
export function reportKeyFor(stackId: string): string {
  return `stacklink-${stackId}`.slice(0, MAX_REPORT_KEY_LENGTH);
}

/** The report for one run state; the counts and summary line come from the runner's summary. */
export function toInsightReport(run: RunReportInput, publicUiUrl: string): InsightReport {
  const summary = run.summary;
  const line = summary?.summary?.trim();
  const note = run.note?.trim();
  const details = [line || STATE_WORDS[run.state], note].filter(Boolean).join('\n');
  const data: InsightData[] = [
    { title: 'Run type', type: 'TEXT', value: run.runType },
    { title: 'State', type: 'TEXT', value: STATE_WORDS[run.state] },
  ];
  const duration = durationMs(run);
  if (duration !== undefined) data.push({ title: 'Duration', type: 'DURATION', value: duration });
  for (const [title, value] of [
    ['To add', summary?.add],
    ['To change', summary?.change],
    ['To destroy', summary?.destroy],
  ] as const) {
    if (value !== undefined) data.push({ title, type: 'NUMBER', value });
  }
  const report: InsightReport = {
    key: reportKeyFor(run.stack.id),
    title: truncate(`${run.stack.name} (${run.runType})`, MAX_REPORT_TITLE_LENGTH),
    details: truncate(details, MAX_REPORT_DETAILS_LENGTH),
    reporter: 'Stacklink',
    link: runUrl(publicUiUrl, run.stack.id, run.runId),
    data: data.slice(0, MAX_REPORT_DATA),
  };
  if (run.state === 'FINISHED') report.result = 'PASS';
  if (run.state === 'FAILED') report.result = 'FAIL';
  return report;
}

/** The runner's annotations, split into the pages Bitbucket accepts per request. */
export function annotationPages(annotations: readonly RunAnnotation[]): RunAnnotation[][] {
  const pages: RunAnnotation[][] = [];
  for (let i = 0; i < annotations.length; i += ANNOTATIONS_PAGE_SIZE) {
    pages.push(annotations.slice(i, i + ANNOTATIONS_PAGE_SIZE));
  }
  return pages;
}

function durationMs(run: RunReportInput): number | undefined {
  if (run.startedAt === undefined || run.state === 'QUEUED') return undefined;
  const ms = Date.parse(run.occurredAt) - Date.parse(run.startedAt);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

function truncate(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}
