import type { Request, Response, Router } from 'express';
import type { RecordedStatus, SimPullRequest, SimRepository, SimUser, SimulatorState } from './state';
import { ZERO_HASH } from './state';

/**
 * Code Insights (reports and annotations on a commit) and the required-builds merge check, as
 * Bitbucket Data Center 7.x+ answers them. The limits Bitbucket enforces, and so this simulator:
 * report key of letters, digits, `.`, `-`, `_` (starting with a letter or digit, ≤ 100), title
 * required ≤ 450, details ≤ 2,000, at most 6 data fields (title ≤ 50, a known type), result PASS or
 * FAIL; annotations: at most 1,000 per request and per report, a message (≤ 2,000), a severity of
 * LOW, MEDIUM or HIGH, a path, a line ≥ 0, a link ≤ 450.
 */
export const INSIGHT_LIMITS = {
  keyPattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
  keyLength: 100,
  titleLength: 450,
  detailsLength: 2000,
  dataFields: 6,
  dataTitleLength: 50,
  annotationsPerReport: 1000,
  annotationsPerRequest: 1000,
  messageLength: 2000,
  linkLength: 450,
  pathLength: 1024,
} as const;

const DATA_TYPES = ['BOOLEAN', 'DATE', 'DURATION', 'LINK', 'NUMBER', 'PERCENTAGE', 'TEXT'];
const SEVERITIES = ['LOW', 'MEDIUM', 'HIGH'];
const ANNOTATION_TYPES = ['VULNERABILITY', 'CODE_SMELL', 'BUG'];

export interface SimInsightData {
  title: string;
  type: string;
  value: unknown;
}

export interface SimAnnotation {
  id: number;
  path: string;
  line: number;
  message: string;
  severity: string;
  link?: string;
  type?: string;
  externalId?: string;
}

export interface SimInsightReport {
  projectKey: string;
  slug: string;
  commit: string;
  key: string;
  title: string;
  details?: string;
  result?: string;
  reporter?: string;
  link?: string;
  data: SimInsightData[];
  annotations: SimAnnotation[];
  createdDate: number;
  /** How many times the report was written (a PUT replaces it). */
  writes: number;
}

/** A field and why Bitbucket refuses it (answered as 400 with `context: field`). */
export interface InsightFieldError {
  field: string;
  message: string;
}

type Validated<T> = { ok: true; value: T } | { ok: false; error: InsightFieldError };

const refuse = (field: string, message: string): { ok: false; error: InsightFieldError } => ({
  ok: false,
  error: { field, message },
});

export function validReportKey(key: string): InsightFieldError | undefined {
  if (key.length === 0 || key.length > INSIGHT_LIMITS.keyLength || !INSIGHT_LIMITS.keyPattern.test(key)) {
    return {
      field: 'key',
      message: `The report key must be 1 to ${INSIGHT_LIMITS.keyLength} letters, digits, '.', '-' or '_', starting with a letter or digit.`,
    };
  }
  return undefined;
}

/** The report body of a PUT, checked as Bitbucket checks it. */
export function validReport(
  body: unknown,
): Validated<Pick<SimInsightReport, 'title' | 'details' | 'result' | 'reporter' | 'link' | 'data'>> {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof b.title !== 'string' || b.title.trim() === '' || b.title.length > INSIGHT_LIMITS.titleLength)
    return refuse('title', `title is required, up to ${INSIGHT_LIMITS.titleLength} characters`);
  if (
    b.details !== undefined &&
    (typeof b.details !== 'string' || b.details.length > INSIGHT_LIMITS.detailsLength)
  )
    return refuse('details', `details may have up to ${INSIGHT_LIMITS.detailsLength} characters`);
  if (b.result !== undefined && b.result !== 'PASS' && b.result !== 'FAIL')
    return refuse('result', 'result must be PASS or FAIL');
  if (b.link !== undefined && (typeof b.link !== 'string' || !/^https?:\/\//.test(b.link)))
    return refuse('link', 'link must be an http(s) URL');
  const data = b.data ?? [];
  if (!Array.isArray(data) || data.length > INSIGHT_LIMITS.dataFields)
    return refuse('data', `data may have up to ${INSIGHT_LIMITS.dataFields} fields`);
  const fields: SimInsightData[] = [];
  for (const [i, item] of data.entries()) {
    const d = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    if (typeof d.title !== 'string' || d.title === '' || d.title.length > INSIGHT_LIMITS.dataTitleLength)
      return refuse(
        `data[${i}].title`,
        `a data title is required, up to ${INSIGHT_LIMITS.dataTitleLength} characters`,
      );
    if (d.type !== undefined && (typeof d.type !== 'string' || !DATA_TYPES.includes(d.type)))
      return refuse(`data[${i}].type`, `type must be one of ${DATA_TYPES.join(', ')}`);
    if (d.value === undefined || d.value === null) return refuse(`data[${i}].value`, 'value is required');
    const type = typeof d.type === 'string' ? d.type : 'TEXT';
    if (['NUMBER', 'DURATION', 'PERCENTAGE'].includes(type) && typeof d.value !== 'number')
      return refuse(`data[${i}].value`, `a ${type} value must be a number`);
    fields.push({ title: d.title, type, value: d.value });
  }
  const report: Pick<SimInsightReport, 'title' | 'details' | 'result' | 'reporter' | 'link' | 'data'> = {
    title: b.title,
    data: fields,
  };
  if (typeof b.details === 'string') report.details = b.details;
  if (typeof b.result === 'string') report.result = b.result;
  if (typeof b.reporter === 'string') report.reporter = b.reporter;
  if (typeof b.link === 'string') report.link = b.link;
  return { ok: true, value: report };
}

/** The annotations of a bulk POST, checked against the request cap and what the report already holds. */
export function validAnnotations(
  body: unknown,
  alreadyHeld: number,
  nextId: () => number,
): Validated<SimAnnotation[]> {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const list = b.annotations;
  if (!Array.isArray(list) || list.length === 0)
    return refuse('annotations', 'annotations must be a non-empty list');
  if (list.length > INSIGHT_LIMITS.annotationsPerRequest)
    return refuse('annotations', `at most ${INSIGHT_LIMITS.annotationsPerRequest} annotations per request`);
  if (alreadyHeld + list.length > INSIGHT_LIMITS.annotationsPerReport)
    return refuse(
      'annotations',
      `a report may hold at most ${INSIGHT_LIMITS.annotationsPerReport} annotations; it has ${alreadyHeld}`,
    );
  const out: SimAnnotation[] = [];
  for (const [i, item] of list.entries()) {
    const a = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const at = `annotations[${i}]`;
    if (typeof a.message !== 'string' || a.message === '' || a.message.length > INSIGHT_LIMITS.messageLength)
      return refuse(`${at}.message`, `message is required, up to ${INSIGHT_LIMITS.messageLength} characters`);
    if (typeof a.severity !== 'string' || !SEVERITIES.includes(a.severity))
      return refuse(`${at}.severity`, `severity must be one of ${SEVERITIES.join(', ')}`);
    if (a.path !== undefined && (typeof a.path !== 'string' || a.path.length > INSIGHT_LIMITS.pathLength))
      return refuse(`${at}.path`, `path may have up to ${INSIGHT_LIMITS.pathLength} characters`);
    if (a.line !== undefined && (!Number.isInteger(a.line) || (a.line as number) < 0))
      return refuse(`${at}.line`, 'line must be a whole number, 0 or more');
    if (a.link !== undefined && (typeof a.link !== 'string' || a.link.length > INSIGHT_LIMITS.linkLength))
      return refuse(`${at}.link`, `link may have up to ${INSIGHT_LIMITS.linkLength} characters`);
    if (a.type !== undefined && (typeof a.type !== 'string' || !ANNOTATION_TYPES.includes(a.type)))
      return refuse(`${at}.type`, `type must be one of ${ANNOTATION_TYPES.join(', ')}`);
    const annotation: SimAnnotation = {
      id: nextId(),
      path: typeof a.path === 'string' ? a.path : '',
      line: typeof a.line === 'number' ? a.line : 0,
      message: a.message,
      severity: a.severity,
    };
    if (typeof a.link === 'string') annotation.link = a.link;
    if (typeof a.type === 'string') annotation.type = a.type;
    if (typeof a.externalId === 'string') annotation.externalId = a.externalId;
    out.push(annotation);
  }
  return { ok: true, value: out };
}

export interface MergeVeto {
  summaryMessage: string;
  detailedMessage: string;
}

/**
 * The required-builds merge check: for each required key, the newest build status on the pull
 * request's source commit whose key or parent is that key must be SUCCESSFUL.
 */
export function requiredBuildVetoes(
  required: readonly string[],
  sourceCommit: string,
  statuses: readonly RecordedStatus[],
): MergeVeto[] {
  const vetoes: MergeVeto[] = [];
  for (const key of required) {
    const latest = statuses
      .filter((s) => s.commit === sourceCommit && (s.key === key || s.parent === key))
      .reduce<RecordedStatus | undefined>(
        (last, s) => (last === undefined || s.at >= last.at ? s : last),
        undefined,
      );
    if (latest?.state === 'SUCCESSFUL') continue;
    vetoes.push({
      summaryMessage: 'Required builds have not passed',
      detailedMessage:
        latest === undefined
          ? `The required build '${key}' has not run on the latest commit.`
          : `The required build '${key}' is ${latest.state} on the latest commit; it must be SUCCESSFUL.`,
    });
  }
  return vetoes;
}

export interface InsightsRouteHelpers {
  state: SimulatorState;
  enabled: () => boolean;
  user: (res: Response) => SimUser | undefined;
  repo: (req: Request, res: Response) => SimRepository | undefined;
  pullRequest: (req: Request, res: Response) => { r: SimRepository; pr: SimPullRequest } | undefined;
  fail: (
    res: Response,
    status: number,
    message: string,
    exceptionName: string | null,
    context?: string | null,
  ) => void;
  noSuchCommit: (res: Response, id: string, repo: SimRepository) => void;
  param: (req: Request, name: string) => string;
}

const EX = 'com.atlassian.bitbucket';
const VALIDATION = `${EX}.validation.ArgumentValidationException`;

/** Adds the Code Insights routes and the merge check to the simulator's REST router. */
export function addCodeInsightsRoutes(router: Router, h: InsightsRouteHelpers): void {
  const REPORT = '/rest/insights/1.0/projects/:projectKey/repos/:slug/commits/:commitId/reports/:key';

  // Without Code Insights (a server before 5.15, or the app disabled) the resource does not exist: the
  // router's own 404 page answers, as Tomcat does.
  const located = (req: Request, res: Response) => {
    if (!h.user(res)) return undefined;
    const r = h.repo(req, res);
    if (!r) return undefined;
    const commit = h.state.commit(r, h.param(req, 'commitId'));
    if (!commit) return void h.noSuchCommit(res, h.param(req, 'commitId'), r);
    return { r, commit: commit.id, key: h.param(req, 'key') };
  };
  const find = (at: { r: SimRepository; commit: string; key: string }) =>
    h.state.insightReports.find(
      (x) =>
        x.projectKey === at.r.projectKey &&
        x.slug === at.r.slug &&
        x.commit === at.commit &&
        x.key === at.key,
    );
  const noReport = (res: Response, key: string) =>
    h.fail(
      res,
      404,
      `No report with key ${key} exists for this commit.`,
      `${EX}.codeinsights.NoSuchReportException`,
    );

  router.put(REPORT, (req, res, next) => {
    if (!h.enabled()) return next();
    const at = located(req, res);
    if (!at) return;
    const keyError = validReportKey(at.key);
    if (keyError) return h.fail(res, 400, keyError.message, VALIDATION, keyError.field);
    const checked = validReport(req.body);
    if (!checked.ok) return h.fail(res, 400, checked.error.message, VALIDATION, checked.error.field);
    const existing = find(at);
    const report: SimInsightReport = {
      projectKey: at.r.projectKey,
      slug: at.r.slug,
      commit: at.commit,
      key: at.key,
      ...checked.value,
      annotations: existing?.annotations ?? [],
      createdDate: h.state.now(),
      writes: (existing?.writes ?? 0) + 1,
    };
    if (existing) h.state.insightReports.splice(h.state.insightReports.indexOf(existing), 1);
    h.state.insightReports.push(report);
    res.json(reportJson(report));
  });

  router.get(REPORT, (req, res, next) => {
    if (!h.enabled()) return next();
    const at = located(req, res);
    if (!at) return;
    const report = find(at);
    if (!report) return noReport(res, at.key);
    res.json(reportJson(report));
  });

  router.delete(`${REPORT}/annotations`, (req, res, next) => {
    if (!h.enabled()) return next();
    const at = located(req, res);
    if (!at) return;
    const report = find(at);
    if (!report) return noReport(res, at.key);
    report.annotations = [];
    res.status(204).end();
  });

  router.post(`${REPORT}/annotations`, (req, res, next) => {
    if (!h.enabled()) return next();
    const at = located(req, res);
    if (!at) return;
    const report = find(at);
    if (!report) return noReport(res, at.key);
    const checked = validAnnotations(req.body, report.annotations.length, () => h.state.id());
    if (!checked.ok) return h.fail(res, 400, checked.error.message, VALIDATION, checked.error.field);
    report.annotations.push(...checked.value);
    res.status(204).end();
  });

  router.get(
    ['/rest/api/1.0', '/rest/api/latest'].map(
      (base) => `${base}/projects/:projectKey/repos/:slug/pull-requests/:prId/merge`,
    ),
    (req, res) => {
      if (!h.user(res)) return;
      const found = h.pullRequest(req, res);
      if (!found) return;
      const { r, pr } = found;
      const source = h.state.repositories.get(pr.fromRepoId)?.refs.get(pr.fromRef) ?? ZERO_HASH;
      const required = h.state.requiredBuilds.get(`${r.projectKey}/${r.slug}`) ?? [];
      const vetoes = pr.state === 'OPEN' ? requiredBuildVetoes(required, source, h.state.statuses) : [];
      if (pr.state !== 'OPEN')
        vetoes.push({ summaryMessage: 'Pull request is closed', detailedMessage: `It is ${pr.state}.` });
      res.json({ canMerge: vetoes.length === 0, conflicted: false, outcome: 'CLEAN', vetoes });
    },
  );
}

function reportJson(report: SimInsightReport): Record<string, unknown> {
  return {
    key: report.key,
    title: report.title,
    ...(report.details === undefined ? {} : { details: report.details }),
    ...(report.result === undefined ? {} : { result: report.result }),
    ...(report.reporter === undefined ? {} : { reporter: report.reporter }),
    ...(report.link === undefined ? {} : { link: report.link }),
    data: report.data,
    createdDate: report.createdDate,
  };
}
