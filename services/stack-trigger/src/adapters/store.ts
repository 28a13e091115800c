import type {
  DeliveryHistoryPort,
  RunCommentRepositoryPort,
  RunLogRepositoryPort,
  RunRepositoryPort,
  SeenHeadsPort,
  StackRepositoryPort,
  WebhookHealthRepositoryPort,
} from '../domain/ports';

/** One store (SQLite or MongoDB) behind the repository ports. */
export interface Store {
  kind: 'sqlite' | 'mongodb';
  stacks: StackRepositoryPort;
  runs: RunRepositoryPort;
  runComments: RunCommentRepositoryPort;
  deliveries: DeliveryHistoryPort;
  logs: RunLogRepositoryPort;
  /** Managed webhooks' health and the heads seen from events (docs/architecture.md §14). */
  webhookHealth: WebhookHealthRepositoryPort;
  seenHeads: SeenHeadsPort;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
