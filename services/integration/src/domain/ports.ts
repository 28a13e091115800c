import type {
  IntegrationEvent,
  IntegrationEventType,
  StackUsage,
  WebhookHealthEntry,
  WebhookSettings,
} from '@stacklink/contracts';
import type { Logger } from '@stacklink/logger';

/**
 * What the use cases need from the outside world (STYLE.md "Boundaries"). Adapters implement these;
 * nothing in domain/ knows about express, amqplib, mongoose or better-sqlite3.
 */

/** Fields stored encrypted; each name is also part of the value's associated data. */
export type SecretField = 'accessToken' | 'webhookSecret' | 'previousWebhookSecret' | 'oauthClientSecret';

/**
 * One integration as stored. Secrets are ciphertexts (`v1:<keyId>:<iv>:<tag>:<ct>`): plaintext never
 * reaches a repository, so neither store can leak what it never saw.
 */
export interface IntegrationRecord {
  id: string;
  name: string;
  apiHost: string;
  userFacingHost: string;
  username: string;
  description?: string;
  labels: string[];
  tls: { caCertificate?: string };
  /** Managed or manual webhooks (docs/architecture.md §14); absent means manual, per repository. */
  webhooks?: WebhookSettings;
  /** The OAuth 2.0 client (Bitbucket's incoming application link) people sign in with; its secret is in `secrets`. */
  oauth?: { clientId: string };
  secrets: {
    accessToken: string;
    webhookSecret: string;
    previousWebhookSecret?: string;
    /** Present exactly when `oauth` is. */
    oauthClientSecret?: string;
  };
  /** ISO instant after which the previous webhook secret is no longer served. */
  previousWebhookSecretValidUntil?: string;
  /** Incremented by every write; updates are conditional on it (optimistic concurrency). */
  revision: number;
  createdAt: string;
  updatedAt: string;
}

export interface IntegrationRepositoryPort {
  /** Throws AppError INTEGRATION.NAME_TAKEN (409) when the name is used by another integration. */
  insert(record: IntegrationRecord): Promise<void>;
  findById(id: string): Promise<IntegrationRecord | undefined>;
  /** Every integration, oldest first (ties broken by id). */
  list(): Promise<IntegrationRecord[]>;
  /**
   * Replaces the stored integration `record.id` when its stored revision is still `expectedRevision`.
   * Returns false when it was changed meanwhile or no longer exists.
   */
  update(record: IntegrationRecord, expectedRevision: number): Promise<boolean>;
  delete(id: string): Promise<boolean>;
  count(): Promise<number>;
  isReady(): Promise<boolean>;
  close(): Promise<void>;
}

export interface SecretContext {
  recordId: string;
  field: SecretField;
}

export interface SecretCipherPort {
  encrypt(plaintext: string, context: SecretContext): string;
  /** Throws AppError SECRETS.UNDECRYPTABLE when the key is unknown or the value was tampered with or moved. */
  decrypt(ciphertext: string, context: SecretContext): string;
  /** True when `ciphertext` is sealed with the current master key. */
  isCurrent(ciphertext: string): boolean;
}

/** Published on exchange `integration.events` with the type as routing key; never carries secrets. */
export type { IntegrationEvent, IntegrationEventType } from '@stacklink/contracts';

export interface IntegrationEventsPort {
  /** Resolves once the broker confirmed the event; rejects otherwise. */
  publish(event: IntegrationEvent): Promise<void>;
}

export type { StackUsage } from '@stacklink/contracts';

export interface StackUsagePort {
  /**
   * Stacks that use the integration, as stack-trigger knows them. Throws AppError
   * STACK_TRIGGER.UNAVAILABLE when stack-trigger cannot answer.
   */
  stacksUsing(integrationId: string): Promise<StackUsage[]>;
  /**
   * Disables every stack that uses the integration (they start no runs until enabled again) and
   * answers them. Throws STACK_TRIGGER.UNAVAILABLE when stack-trigger cannot answer.
   */
  disableStacksUsing(integrationId: string, reason: string): Promise<StackUsage[]>;
}

/** Each repository's webhook health as stack-trigger's reconciler recorded it (docs/architecture.md §14). */
export interface WebhookHealthPort {
  /** Throws STACK_TRIGGER.UNAVAILABLE (503) when stack-trigger cannot answer. */
  webhookHealth(integrationId: string): Promise<WebhookHealthEntry[]>;
}

export interface ClockPort {
  now(): Date;
}

export interface IntegrationMetricsPort {
  eventPublishFailed(type: IntegrationEventType): void;
  connectionTested(outcome: string): void;
}

export interface BitbucketCredentials {
  apiHost: string;
  username: string;
  accessToken: string;
  caCertificate?: string;
}

export interface BitbucketProject {
  key: string;
  name: string;
}

export interface BitbucketRepository {
  projectKey: string;
  projectName?: string;
  slug: string;
  name: string;
  id?: number;
  defaultBranch?: string;
  /** The repository in the Bitbucket UI people use (built on userFacingHost). */
  url?: string;
}

export interface RepositoryPage {
  values: BitbucketRepository[];
  start: number;
  limit: number;
  isLastPage: boolean;
  nextPageStart?: number;
}

export interface RepositoryQuery {
  project?: string;
  filter?: string;
  start: number;
  limit: number;
}

/** Which API commit statuses go through (docs/architecture.md §8). */
export type BuildStatusApi = 'repository' | 'legacy';

/**
 * The Bitbucket operations the integration service needs. Implementations throw AppErrors with the
 * client's codes: BITBUCKET.UNREACHABLE, .TLS, .NOT_BITBUCKET, .UNAUTHORIZED, .FORBIDDEN, .NOT_FOUND,
 * .SERVER_ERROR, .RATE_LIMITED.
 */
export interface BitbucketPort {
  /** Anonymous: tells whether a Bitbucket answers at all, and which version. */
  getServerVersion(): Promise<string>;
  /**
   * Authenticated request that fails with BITBUCKET.UNAUTHORIZED for a wrong or expired token; tells
   * which user the token belongs to.
   */
  checkCredentials(): Promise<{ username: string }>;
  /** Up to `limit` projects the token can see. */
  listProjects(limit: number): Promise<BitbucketProject[]>;
  buildStatusApi(): Promise<BuildStatusApi>;
  listRepositories(query: RepositoryQuery): Promise<RepositoryPage>;
}

export type BitbucketClientFactoryPort = (credentials: BitbucketCredentials) => BitbucketPort;

/** Everything the use cases share; built once by app.ts. */
export interface IntegrationDeps {
  repository: IntegrationRepositoryPort;
  cipher: SecretCipherPort;
  events: IntegrationEventsPort;
  stackUsage: StackUsagePort;
  /** Absent: the webhooks route answers that health is not reported. */
  webhookHealth?: WebhookHealthPort;
  bitbucket: BitbucketClientFactoryPort;
  clock: ClockPort;
  metrics: IntegrationMetricsPort;
  logger: Logger;
  /** Registers a plaintext secret with the logger so no log line ever prints it. */
  registerSecret: (value: string) => void;
  /** `PUBLIC_WEBHOOK_BASE_URL`, without a trailing slash. */
  publicWebhookBaseUrl: string;
  webhookSecretGraceSeconds: number;
}
