import Joi from 'joi';
import { AppError } from '@stacklink/errors';
import { callInternal, type InternalClientOptions } from './internal-http';

/**
 * stack-trigger's internal API (docs/architecture.md §4), for the integration service, behind
 * INTERNAL_TOKEN: `GET /internal/v1/stacks?integrationId=` (which stacks use an integration) and
 * `POST /internal/v1/stacks/disable?integrationId=` `{reason?}` (disable them). Both answer
 * `{stacks: [{id, name, …}]}`, full stacks, of which callers read id and name.
 */
export const stacksUsingPath = (integrationId: string): string =>
  `stacks?integrationId=${encodeURIComponent(integrationId)}`;
export const disableStacksPath = (integrationId: string): string =>
  `stacks/disable?integrationId=${encodeURIComponent(integrationId)}`;

export interface StackUsage {
  id: string;
  name: string;
}

export interface DisableStacksRequest {
  reason?: string;
}

export interface StacksAnswer {
  stacks: StackUsage[];
}

export const stacksAnswerSchema: Joi.ObjectSchema = Joi.object({
  stacks: Joi.array()
    .items(Joi.object({ id: Joi.string().min(1).required(), name: Joi.string().required() }))
    .required(),
});

export interface StackTriggerApiClient {
  /** Stacks that use the integration. Throws STACK_TRIGGER.UNAVAILABLE (503, retryable) without a clear answer. */
  stacksUsing(integrationId: string): Promise<StackUsage[]>;
  /** Disables every stack that uses the integration and answers them; same failure as stacksUsing. */
  disableStacksUsing(integrationId: string, reason: string): Promise<StackUsage[]>;
}

/** The one client of stack-trigger's internal API; 5 s timeout by default. */
export function createStackTriggerApiClient(options: InternalClientOptions): StackTriggerApiClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  const failures = {
    unreachable: (cause: unknown) => unavailable(`stack-trigger at ${base} cannot be reached`, cause),
    answered: (status: number) => unavailable(`stack-trigger at ${base} answered ${status}`),
    invalid: () => unavailable(`stack-trigger at ${base} answered without a stacks list`),
  };
  const call = async (path: string, body?: DisableStacksRequest): Promise<StackUsage[]> => {
    const answer = await callInternal<StacksAnswer>(
      { ...options, defaultTimeoutMs: 5000 },
      path,
      stacksAnswerSchema,
      failures,
      { body },
    );
    // Without notFoundIsAnswer there is always an answer.
    return answer!.stacks.map((s) => ({ id: s.id, name: s.name }));
  };
  return {
    stacksUsing: (integrationId) => call(stacksUsingPath(integrationId)),
    disableStacksUsing: (integrationId, reason) => call(disableStacksPath(integrationId), { reason }),
  };
}

function unavailable(message: string, cause?: unknown): AppError {
  return new AppError(
    'STACK_TRIGGER.UNAVAILABLE',
    `${message}, so it is unknown whether stacks still use this integration; nothing was deleted. Try again later, or delete with ?force=true.`,
    { status: 503, retryable: true, cause },
  );
}
