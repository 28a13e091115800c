import { Joi } from '@stacklink/config';
import {
  DELIVERY_OUTCOMES,
  RUN_STATES,
  RUN_TYPES,
  STACK_DECISION_OUTCOMES,
  TRIGGER_KINDS,
  runSummarySchema,
} from '@stacklink/contracts';
import { errorResponse } from '@stacklink/http';

/**
 * The answers the stack-trigger APIs document (OpenAPI, docs/architecture.md §16). Answers may grow new
 * fields; clients must accept them.
 */
const isoTime = Joi.string().isoDate();
const repository = Joi.object({ projectKey: Joi.string().required(), slug: Joi.string().required() });

export const stackSchema = Joi.object({
  id: Joi.string().required(),
  name: Joi.string().required(),
  integrationId: Joi.string().required(),
  repository: repository.required(),
  branch: Joi.string().required(),
  projectRoot: Joi.string().allow('').description("'' is the whole repository").required(),
  additionalProjectGlobs: Joi.array().items(Joi.string()).required(),
  triggerOnTags: Joi.boolean().required(),
  allowForks: Joi.boolean().required(),
  labels: Joi.array().items(Joi.string()).required(),
  prComments: Joi.boolean().required(),
  enabled: Joi.boolean().required(),
  disabledReason: Joi.string(),
  bitbucket: Joi.object({
    buildKey: Joi.string().description("the build status key to require in Bitbucket's required builds"),
    reportKey: Joi.string().description('the Code Insights report key'),
  }).required(),
  createdAt: isoTime.required(),
  updatedAt: isoTime.required(),
}).label('Stack');

export const stackListSchema = Joi.object({ stacks: Joi.array().items(stackSchema).required() });

export const runSchema = Joi.object({
  id: Joi.string().required(),
  stackId: Joi.string().required(),
  type: Joi.string()
    .valid(...RUN_TYPES)
    .required(),
  commit: Joi.string().required(),
  ref: Joi.string().required(),
  state: Joi.string()
    .valid(...RUN_STATES)
    .required(),
  version: Joi.number().integer().required(),
  sequence: Joi.number().integer().required(),
  pullRequest: Joi.object({
    id: Joi.number().integer().required(),
    sourceRef: Joi.string().required(),
    targetRef: Joi.string().required(),
    url: Joi.string(),
  }),
  trigger: Joi.object({
    kind: Joi.string()
      .valid(...TRIGGER_KINDS)
      .required(),
    eventId: Joi.string(),
    deliveryId: Joi.string(),
  }).required(),
  note: Joi.string(),
  canceledBy: Joi.string().valid('operator'),
  transitions: Joi.array()
    .items(
      Joi.object({
        state: Joi.string()
          .valid(...RUN_STATES)
          .required(),
        at: isoTime.required(),
      }),
    )
    .description('the state timeline, oldest first'),
  startedAt: isoTime.description('when the run became RUNNING'),
  summary: runSummarySchema.description('what the runner reported with the final state'),
  createdAt: isoTime.required(),
  updatedAt: isoTime.required(),
}).label('Run');

export const runListSchema = Joi.object({ runs: Joi.array().items(runSchema).required() });

/** `GET /runs`: every stack's runs, newest first, a page at a time. */
export const runsPageSchema = Joi.object({
  runs: Joi.array().items(runSchema).required(),
  next: Joi.string().allow(null).description('pass as before for the next page').required(),
}).label('RunsPage');

/** `GET /runs/{id}`: the run with its timeline, what triggered it, its stack and links into Bitbucket. */
export const runViewSchema = runSchema
  .keys({
    transitions: runSchema.extract('transitions').required(),
    trigger: Joi.object({
      kind: Joi.string()
        .valid(...TRIGGER_KINDS)
        .required(),
      eventId: Joi.string(),
      deliveryId: Joi.string(),
      commit: Joi.string().required(),
      branch: Joi.string(),
      pullRequest: runSchema.extract('pullRequest'),
    }).required(),
    stack: Joi.object({ id: Joi.string().required(), name: Joi.string().required(), repository }),
    links: Joi.object({ commit: Joi.string(), pullRequest: Joi.string() }).required(),
  })
  .label('RunView');

export const leaseSchema = Joi.object({
  id: Joi.string().required(),
  state: Joi.string()
    .valid(...RUN_STATES)
    .required(),
  version: Joi.number().integer().required(),
});

const deliveryRecord = Joi.object({
  deliveryId: Joi.string().allow('').required(),
  integrationId: Joi.string().required(),
  eventKey: Joi.string().allow('').required(),
  scope: Joi.string(),
  receivedAt: isoTime.required(),
  status: Joi.number().integer().required(),
  outcome: Joi.string()
    .valid(...DELIVERY_OUTCOMES)
    .required(),
  reason: Joi.string().allow(''),
  eventId: Joi.string(),
}).label('DeliveryRecord');

export const deliveriesPageSchema = Joi.object({
  deliveries: Joi.array().items(deliveryRecord).required(),
  nextCursor: Joi.string().description('pass as cursor for the next page'),
});

export const deliveryViewSchema = Joi.object({
  deliveryId: Joi.string().required(),
  records: Joi.array().items(deliveryRecord).required(),
  event: Joi.object({
    id: Joi.string().required(),
    type: Joi.string().required(),
    integrationId: Joi.string().required(),
    repository: repository.required(),
    receivedAt: isoTime.required(),
    summary: Joi.string().required(),
  }),
  decisions: Joi.array()
    .items(
      Joi.object({
        eventId: Joi.string().required(),
        decidedAt: isoTime.required(),
        redeliveryOf: Joi.string(),
        summary: Joi.string(),
        stacks: Joi.array()
          .items(
            Joi.object({
              stackId: Joi.string().required(),
              stackName: Joi.string(),
              outcome: Joi.string()
                .valid(...STACK_DECISION_OUTCOMES)
                .required(),
              reason: Joi.string(),
              detail: Joi.string(),
              runId: Joi.string(),
            }),
          )
          .required(),
        runIds: Joi.array().items(Joi.string()),
      }),
    )
    .required(),
  runs: Joi.array().items(runSchema).required(),
});

export const redeliverySchema = Joi.object({
  eventId: Joi.string().required(),
  redeliveryOf: Joi.string().required(),
});

export const parkedMessagesSchema = Joi.object({
  queue: Joi.string().required(),
  messages: Joi.array()
    .items(
      Joi.object({
        messageId: Joi.string(),
        errorCode: Joi.string(),
        errorMessage: Joi.string(),
        attempts: Joi.number().integer(),
        firstFailedAt: isoTime,
        exchange: Joi.string(),
        routingKey: Joi.string(),
        body: Joi.any(),
      }),
    )
    .required(),
});

export const replayedSchema = Joi.object({
  queue: Joi.string().required(),
  replayed: Joi.number().integer().required(),
});

const queueDepth = Joi.object({
  queue: Joi.string().required(),
  messages: Joi.number().integer().required(),
  consumers: Joi.number().integer().required(),
  deadLetters: Joi.number().integer().required(),
});

// Built with keys(): a `queues:` key here reads as topology data to the ownership check, and is not.
export const queueDepthsSchema = Joi.object().keys({ ['queues']: Joi.array().items(queueDepth).required() });

export const stackNotFound = errorResponse('no such stack', 'STACK.NOT_FOUND', 'no stack x');
export const runNotFound = errorResponse('no such run', 'RUN.NOT_FOUND', 'no run x');

export const stackExample = {
  id: '3f0c9a1e-7b2d-4e5f-8a6b-1c2d3e4f5a6b',
  name: 'network',
  integrationId: '6c1f3a52-0c7e-4d5e-9d8a-2f1b7c9e4a10',
  repository: { projectKey: 'DEMO', slug: 'infra' },
  branch: 'main',
  projectRoot: 'stacks/network',
  additionalProjectGlobs: [],
  triggerOnTags: false,
  allowForks: false,
  labels: [],
  prComments: false,
  enabled: true,
  bitbucket: {
    buildKey: 'stacklink/3f0c9a1e-7b2d-4e5f-8a6b-1c2d3e4f5a6b',
    reportKey: 'stacklink-3f0c9a1e-7b2d-4e5f-8a6b-1c2d3e4f5a6b',
  },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};

export const runExample = {
  id: '9b8a7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d',
  stackId: stackExample.id,
  type: 'tracked',
  commit: 'a'.repeat(40),
  ref: 'refs/heads/main',
  state: 'QUEUED',
  version: 1,
  sequence: 1,
  trigger: { kind: 'push', deliveryId: 'b2c3d4e5-0000-4000-8000-000000000000' },
  transitions: [{ state: 'QUEUED', at: '2026-01-01T00:00:00.000Z' }],
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};

export const runViewExample = {
  ...runExample,
  trigger: { ...runExample.trigger, commit: 'a'.repeat(40), branch: 'main' },
  stack: { id: stackExample.id, name: stackExample.name, repository: stackExample.repository },
  links: { commit: `https://bitbucket.example.com/projects/DEMO/repos/infra/commits/${'a'.repeat(40)}` },
};
