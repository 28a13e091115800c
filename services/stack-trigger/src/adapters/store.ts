import type {
  DeliveryHistoryPort,
  RunCommentRepositoryPort,
  RunLogRepositoryPort,
  RunRepositoryPort,
  StackRepositoryPort,
} from '../domain/ports';

/** One store (SQLite or MongoDB) behind the repository ports. */
export interface Store {
  kind: 'sqlite' | 'mongodb';
  stacks: StackRepositoryPort;
  runs: RunRepositoryPort;
  runComments: RunCommentRepositoryPort;
  deliveries: DeliveryHistoryPort;
  logs: RunLogRepositoryPort;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
