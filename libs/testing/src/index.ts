export { RABBITMQ_URL, REDIS_URL } from './constants';
export { uniqueNamespace } from './unique-namespace';
export { waitFor } from './wait-for';
export type { WaitForOptions } from './wait-for';
export { createTcpProxy } from './tcp-proxy';
export type { TcpProxy, TcpProxyOptions } from './tcp-proxy';
export { deleteNamespace } from './delete-namespace';
export type { DeleteNamespaceOptions, DeletedNamespace, TopologyNames } from './delete-namespace';
export { describePublicCorpus, skippedCorpusSuites } from './public-corpus';
export { BITBUCKET_DC_MORE_OUTCOMES } from './public-corpus-outcomes';
export { openEventStream } from './event-stream-reader';
export type { EventStreamReader, ServerSentEvent } from './event-stream-reader';
export {
  answerProblems,
  checkOpenApiCompleteness,
  validateOpenApiDocument,
} from './check-openapi-completeness';
