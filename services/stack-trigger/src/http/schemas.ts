import { Joi } from '@stacklink/config';
import { RUN_LOG_LIMITS, RUN_STATES } from '@stacklink/contracts';
import { MAX_GLOB_LENGTH, MAX_GLOBS, normalizeProjectRoot } from '../domain/stack-matches-files';

const repository = Joi.object({
  projectKey: Joi.string()
    .pattern(/^~?[A-Za-z0-9_]{1,128}$/)
    .required(),
  slug: Joi.string()
    .pattern(/^[A-Za-z0-9._-]{1,128}$/)
    .required(),
});

const glob = Joi.string().min(1).max(MAX_GLOB_LENGTH);
const label = Joi.string().min(1).max(100);

const stackFields = {
  name: Joi.string()
    .trim()
    .min(1)
    .max(100)
    .pattern(/^[^\s"'][^"']*$/, 'a name without quotes'),
  integrationId: Joi.string().min(1).max(100),
  repository,
  branch: Joi.string().pattern(/^\S{1,255}$/, 'a branch name'),
  // A directory inside the repository: runners run commands there (docs/architecture.md §12).
  projectRoot: Joi.string()
    .allow('')
    .max(500)
    .custom((value: string, helpers) =>
      isSafeProjectRoot(value) ? normalizedProjectRoot(value) : helpers.error('string.projectRoot'),
    )
    .messages({
      'string.projectRoot':
        '{{#label}} must be a relative path inside the repository, without ".." segments or a leading "/"',
    }),
  additionalProjectGlobs: Joi.array().items(glob).max(MAX_GLOBS),
  triggerOnTags: Joi.boolean(),
  allowForks: Joi.boolean(),
  labels: Joi.array().items(label).max(50),
  prComments: Joi.boolean(),
  /** `true` enables a stack again (and clears why it was disabled). */
  enabled: Joi.boolean(),
};

export const createStackSchema = Joi.object({
  ...stackFields,
  name: stackFields.name.required(),
  integrationId: stackFields.integrationId.required(),
  repository: repository.required(),
  branch: stackFields.branch.required(),
  projectRoot: stackFields.projectRoot.default(''),
  additionalProjectGlobs: stackFields.additionalProjectGlobs.default([]),
  triggerOnTags: stackFields.triggerOnTags.default(false),
  allowForks: stackFields.allowForks.default(false),
  labels: stackFields.labels.default([]),
  prComments: stackFields.prComments.default(false),
  enabled: stackFields.enabled.default(true),
})
  .required()
  .label('body');

export const patchStackSchema = Joi.object(stackFields).min(1).required().label('body');

/** The runner contract's state report, with its optional summary (@stacklink/contracts). */
export { runStateRequestSchema as runStateSchema } from '@stacklink/contracts';

export const manualRunSchema = Joi.object({
  commit: Joi.string()
    .pattern(/^([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/, 'a full commit hash')
    .required(),
  type: Joi.string().valid('tracked', 'proposed').default('tracked'),
  ref: Joi.string().pattern(/^refs\/\S+$/, 'a full ref name'),
  note: Joi.string().max(2000),
})
  .required()
  .label('body');

export const listRunsQuerySchema = Joi.object({ limit: Joi.number().integer().min(1).max(1000) }).label(
  'query',
);

const logSeq = Joi.number().integer().min(0).max(Number.MAX_SAFE_INTEGER);

export const runLogQuerySchema = Joi.object({
  after: logSeq,
  limit: Joi.number()
    .integer()
    .min(1)
    .max(RUN_LOG_LIMITS.maxPageChunks)
    .default(RUN_LOG_LIMITS.defaultPageChunks),
}).label('query');

export const runLogStreamQuerySchema = Joi.object({ after: logSeq }).label('query');

export const lastEventIdHeaderSchema = Joi.object({ 'Last-Event-ID': logSeq }).label('headers');

export const listAllRunsQuerySchema = Joi.object({
  stackId: Joi.string().min(1).max(100),
  state: Joi.string().valid(...RUN_STATES),
  limit: Joi.number().integer().min(1).max(200).default(50),
  before: Joi.string().min(1).max(500),
}).label('query');

export const internalStacksQuerySchema = Joi.object({
  integrationId: Joi.string().min(1).max(100).required(),
}).label('query');

export const disableStacksBodySchema = Joi.object({
  reason: Joi.string().min(1).max(500),
}).label('body');

/** Relative, no `..` segment, no drive letter or leading slash: a directory of the repository. */
function isSafeProjectRoot(value: string): boolean {
  const root = value.trim().replace(/\\/g, '/');
  if (root.startsWith('/') || /^[A-Za-z]:/.test(root) || root.includes('\u0000')) return false;
  return root.split('/').every((segment) => segment !== '..');
}

/** Stored as runners get it: `./infra//prod/` → `infra/prod`, `.` → '' (the whole repository). */
function normalizedProjectRoot(value: string): string {
  const segments = normalizeProjectRoot(value)
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.');
  return segments.join('/');
}
