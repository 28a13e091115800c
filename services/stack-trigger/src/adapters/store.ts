import type {
  DeliveryHistoryPort,
  RunCommentRepositoryPort,
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
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
