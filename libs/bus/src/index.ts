export { createBus, describeBrokerUrl } from './create-bus';
export type { PublishFailureReason } from './create-bus';
export { topologyNames, deadLetterQueueName, retryQueueName, DEFAULT_RETRY_DELAYS_MS } from './names';
export { HEADERS } from './headers';
export type {
  Bus,
  BusOptions,
  ConsumeOptions,
  ConsumerHandle,
  DeadLetter,
  ExchangeSpec,
  IncomingMessage,
  MessageHandler,
  PublishOptions,
  QueueSpec,
  ReplayOptions,
  Topology,
} from './types';
