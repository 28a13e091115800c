export { RABBITMQ_URL, REDIS_URL } from './constants';
export { uniqueNamespace } from './unique-namespace';
export { waitFor } from './wait-for';
export type { WaitForOptions } from './wait-for';
export { createTcpProxy } from './tcp-proxy';
export type { TcpProxy, TcpProxyOptions } from './tcp-proxy';
export { deleteNamespace } from './delete-namespace';
export type { DeleteNamespaceOptions, DeletedNamespace } from './delete-namespace';
export { fixturesDir, listFixtures, readFixture, eventKeysFromSources, signatureVectors } from './fixtures';
