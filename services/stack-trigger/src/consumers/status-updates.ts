import type { MessageHandler } from '@stacklink/bus';
import { Joi } from '@stacklink/config';
import { AppError } from '@stacklink/errors';
import { RUN_STATES, RUN_TYPES } from '../domain/model';
import type { createReportCommitStatus, RunStateUpdate } from '../domain/report-commit-status';
import { RUN_STATE_CHANGED } from '../run-messages';

/** The fields of a RunMessage (run-messages.ts) the reporter reads; anything else may be added later. */
const runStateChangedSchema = Joi.object({
  specVersion: Joi.number().valid(1).required(),
  type: Joi.string().valid(RUN_STATE_CHANGED).required(),
  runId: Joi.string().min(1).required(),
  version: Joi.number().integer().min(1).required(),
  state: Joi.string()
    .valid(...RUN_STATES)
    .required(),
  runType: Joi.string()
    .valid(...RUN_TYPES)
    .required(),
  commit: Joi.string().min(1).required(),
  ref: Joi.string().allow('').required(),
  note: Joi.string().allow(''),
  pullRequest: Joi.object({ id: Joi.number().integer().required() }).unknown(true),
  stack: Joi.object({
    id: Joi.string().min(1).required(),
    name: Joi.string().min(1).required(),
    integrationId: Joi.string().min(1).required(),
    repository: Joi.object({ projectKey: Joi.string().required(), slug: Joi.string().required() })
      .unknown(true)
      .required(),
  })
    .unknown(true)
    .required(),
}).unknown(true);

/**
 * `stack-trigger.status-updates`: one `run.state_changed` per message. A message that is not one can
 * never succeed, so it is parked at once (non-retryable); Bitbucket's retryable errors go back to the bus.
 */
export function createStatusUpdatesConsumer(
  reportCommitStatus: ReturnType<typeof createReportCommitStatus>,
): MessageHandler {
  return async (msg) => {
    const result = runStateChangedSchema.validate(msg.body, { abortEarly: true });
    const error = result.error;
    if (error) {
      throw new AppError('REPORTER.INVALID_MESSAGE', `not a run.state_changed message: ${error.message}`, {
        status: 400,
        retryable: false,
      });
    }
    await reportCommitStatus(result.value as RunStateUpdate);
  };
}
