import Joi from 'joi';

/**
 * The run summary a runner may send with a run's final state (`POST /api/v1/runs/{id}/state`,
 * services/runner/README.md "Runner contract"): plan counts, one line of text and findings on files.
 * stack-trigger keeps it on the run and carries it in `run.state_changed`, so the reporter can fill
 * Bitbucket's Code Insights report and its annotations (docs/architecture.md §8).
 */
export const ANNOTATION_SEVERITIES = ['LOW', 'MEDIUM', 'HIGH'] as const;
export type AnnotationSeverity = (typeof ANNOTATION_SEVERITIES)[number];

/** Bitbucket's Code Insights caps: 1,000 annotations per report, 2,000 characters per message. */
export const MAX_RUN_ANNOTATIONS = 1000;
export const MAX_ANNOTATION_MESSAGE_LENGTH = 2000;
export const MAX_ANNOTATION_PATH_LENGTH = 1024;
export const MAX_ANNOTATION_LINK_LENGTH = 450;
export const MAX_SUMMARY_LINE_LENGTH = 1000;

export interface RunAnnotation {
  /** Repository-relative path of the file the finding is about. */
  path: string;
  /** 1-based line; without it the annotation is about the whole file. */
  line?: number;
  severity: AnnotationSeverity;
  message: string;
  link?: string;
}

export interface RunSummary {
  add?: number;
  change?: number;
  destroy?: number;
  /** One free-form line, e.g. "Plan: 2 to add, 1 to change, 0 to destroy." */
  summary?: string;
  annotations?: RunAnnotation[];
}

const count = Joi.number().integer().min(0).max(1_000_000);

export const runAnnotationSchema: Joi.ObjectSchema = Joi.object({
  path: Joi.string().min(1).max(MAX_ANNOTATION_PATH_LENGTH).required(),
  line: Joi.number().integer().min(1),
  severity: Joi.string()
    .valid(...ANNOTATION_SEVERITIES)
    .required(),
  message: Joi.string().min(1).max(MAX_ANNOTATION_MESSAGE_LENGTH).required(),
  link: Joi.string()
    .uri({ scheme: ['http', 'https'] })
    .max(MAX_ANNOTATION_LINK_LENGTH),
});

export const runSummarySchema: Joi.ObjectSchema = Joi.object({
  add: count,
  change: count,
  destroy: count,
  summary: Joi.string().max(MAX_SUMMARY_LINE_LENGTH).allow(''),
  annotations: Joi.array().items(runAnnotationSchema).max(MAX_RUN_ANNOTATIONS),
}).min(1);

/** What a runner may send to `POST /api/v1/runs/{id}/state`; a summary only with a final outcome. */
export const runStateRequestSchema: Joi.ObjectSchema = Joi.object({
  state: Joi.string().valid('RUNNING', 'FINISHED', 'FAILED', 'CANCELED').required(),
  note: Joi.string().max(2000),
  summary: runSummarySchema.when('state', {
    is: Joi.valid('FINISHED', 'FAILED'),
    otherwise: Joi.forbidden().messages({
      'any.unknown': '"summary" is allowed only with state FINISHED or FAILED',
    }),
  }),
})
  .required()
  .label('body');

export interface RunStateRequest {
  state: 'RUNNING' | 'FINISHED' | 'FAILED' | 'CANCELED';
  note?: string;
  summary?: RunSummary;
}
