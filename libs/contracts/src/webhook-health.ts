import Joi from 'joi';
import { AppError } from '@stacklink/errors';
import { callInternal, type InternalClientOptions } from './internal-http';

/** An integration's webhook setting (docs/architecture.md §14); `manual` unless set. */
export const WEBHOOK_MODES = ['manual', 'managed'] as const;
export type WebhookMode = (typeof WEBHOOK_MODES)[number];
export const WEBHOOK_SCOPES = ['repository', 'project'] as const;
export type WebhookScopeSetting = (typeof WEBHOOK_SCOPES)[number];

export interface WebhookSettings {
  mode: WebhookMode;
  scope: WebhookScopeSetting;
}
export const DEFAULT_WEBHOOK_SETTINGS: WebhookSettings = { mode: 'manual', scope: 'repository' };

export const webhookSettingsSchema: Joi.ObjectSchema = Joi.object({
  mode: Joi.string()
    .valid(...WEBHOOK_MODES)
    .required(),
  scope: Joi.string()
    .valid(...WEBHOOK_SCOPES)
    .default('repository'),
});

/**
 * Each repository's (or project's) webhook health, as the reconciler last saw it (§14): `ok`,
 * `missing` (none, and the reconciler did not or may not create one), `repaired` (it was wrong or
 * gone and is right again), `failing` (Bitbucket reports failed deliveries to it), `forbidden` (the
 * token lacks the permission `detail` names).
 */
export const WEBHOOK_HEALTH = ['ok', 'missing', 'repaired', 'failing', 'forbidden'] as const;
export type WebhookHealth = (typeof WEBHOOK_HEALTH)[number];

export interface WebhookHealthEntry {
  /** `P/r` for a repository hook, `P` for a project hook. */
  scope: string;
  health: WebhookHealth;
  detail: string;
  lastFailure?: string;
  checkedAt: string;
}

export const webhookHealthEntrySchema: Joi.ObjectSchema = Joi.object({
  scope: Joi.string().min(1).required(),
  health: Joi.string()
    .valid(...WEBHOOK_HEALTH)
    .required(),
  detail: Joi.string().allow('').required(),
  lastFailure: Joi.string(),
  checkedAt: Joi.string().isoDate().required(),
});

/** stack-trigger's `GET /internal/v1/webhooks?integrationId=`. */
export interface WebhookHealthAnswer {
  webhooks: WebhookHealthEntry[];
}
export const webhookHealthAnswerSchema: Joi.ObjectSchema = Joi.object({
  webhooks: Joi.array().items(webhookHealthEntrySchema).required(),
});
export const webhookHealthPath = (integrationId: string): string =>
  `webhooks?integrationId=${encodeURIComponent(integrationId)}`;

/** The integration service's `GET /api/v1/integrations/{id}/webhooks` (what the console and CLI show). */
export const integrationWebhooksAnswerSchema: Joi.ObjectSchema = Joi.object({
  integrationId: Joi.string().required(),
  mode: Joi.string()
    .valid(...WEBHOOK_MODES)
    .required(),
  scope: Joi.string()
    .valid(...WEBHOOK_SCOPES)
    .required(),
  note: Joi.string(),
  webhooks: Joi.array().items(webhookHealthEntrySchema).required(),
});

/** Reads stack-trigger's webhook health; STACK_TRIGGER.UNAVAILABLE (503, retryable) without an answer. */
export async function fetchWebhookHealth(
  options: InternalClientOptions,
  integrationId: string,
): Promise<WebhookHealthEntry[]> {
  const base = options.baseUrl.replace(/\/+$/, '');
  const unavailable = (message: string, cause?: unknown) =>
    new AppError('STACK_TRIGGER.UNAVAILABLE', `${message}: webhook health is unknown for now`, {
      status: 503,
      retryable: true,
      cause,
    });
  const answer = await callInternal<WebhookHealthAnswer>(
    { ...options, defaultTimeoutMs: 5000 },
    webhookHealthPath(integrationId),
    webhookHealthAnswerSchema,
    {
      unreachable: (cause) => unavailable(`stack-trigger at ${base} cannot be reached`, cause),
      answered: (status) => unavailable(`stack-trigger at ${base} answered ${status}`),
      invalid: () => unavailable(`stack-trigger at ${base} answered without a webhooks list`),
    },
  );
  return answer!.webhooks;
}
