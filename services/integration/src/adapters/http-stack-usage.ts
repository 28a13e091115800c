import { createStackTriggerApiClient, fetchWebhookHealth } from '@stacklink/contracts';
import type { StackUsagePort, WebhookHealthPort } from '../domain/ports';

export interface HttpStackUsageOptions {
  /** STACK_TRIGGER_URL, e.g. http://127.0.0.1:8082 */
  baseUrl: string;
  internalToken: string;
  timeoutMs?: number;
}

/**
 * Which stacks use an integration, and disabling them, through stack-trigger's internal API with its one
 * client (@stacklink/contracts). Any failure to get a clear answer is STACK_TRIGGER.UNAVAILABLE (503):
 * the caller must not delete blindly.
 */
export function createHttpStackUsage(options: HttpStackUsageOptions): StackUsagePort {
  return createStackTriggerApiClient(options);
}

/** Each repository's webhook health, from stack-trigger's `GET /internal/v1/webhooks?integrationId=`. */
export function createHttpWebhookHealth(options: HttpStackUsageOptions): WebhookHealthPort {
  return { webhookHealth: (integrationId) => fetchWebhookHealth(options, integrationId) };
}
