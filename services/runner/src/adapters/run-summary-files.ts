import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { RunSummary } from '@stacklink/contracts';
import { summaryFileEnvironment } from '../domain/run-environment';
import { runSummary } from '../domain/run-summary';

/** Files a run command may write its plan and findings to; their paths are in its environment. */
export interface RunSummaryFiles {
  /** STACKLINK_PLAN_JSON and STACKLINK_ANNOTATIONS_JSON. */
  env: Record<string, string>;
  /** What the command wrote, once it ended; a missing or unreadable file counts as not written. */
  read(): { summary?: RunSummary; dropped: number; unreadable: string[] };
  remove(): void;
}

/** A private temporary directory per run, so one run never reads another's files. */
export function createRunSummaryFiles(): RunSummaryFiles {
  const dir = mkdtempSync(`${tmpdir()}/stacklink-run-`);
  const env = summaryFileEnvironment(dir);
  const plan = env.STACKLINK_PLAN_JSON;
  const annotations = env.STACKLINK_ANNOTATIONS_JSON;
  return {
    env,
    read() {
      const unreadable: string[] = [];
      const load = (path: string, name: string): unknown => {
        let text: string;
        try {
          text = readFileSync(path, 'utf8');
        } catch {
          return undefined;
        }
        try {
          return JSON.parse(text) as unknown;
        } catch {
          unreadable.push(name);
          return undefined;
        }
      };
      const found = runSummary(
        load(plan, 'STACKLINK_PLAN_JSON'),
        load(annotations, 'STACKLINK_ANNOTATIONS_JSON'),
      );
      return { ...found, unreadable };
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
