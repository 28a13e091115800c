export { createBus, describeBrokerUrl } from './create-bus';
export type { PublishFailureReason } from './create-bus';
export {
  topologyNames,
  deadLetterQueueName,
  retryQueueName,
  DEFAULT_RETRY_DELAYS_MS,
  // The namespaced (physical) name of a queue, for tools that look queues up on the broker.
  createNamer,
} from './names';
export type { Namer } from './names';
export { HEADERS, waitHintOf } from './headers';
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
  QueueDepth,
  QueueSpec,
  ReplayOptions,
  Topology,
  WaitPolicy,
} from './types';
