export { createApp } from './app';
export type { AppOptions } from './app';
export { integrationConfigSchema, loadIntegrationConfig, reencryptConfigSchema } from './config';
export type { IntegrationConfig } from './config';
export type { ConnectionTestReport, ConnectionCheck } from './domain/test-connection';
export type { IntegrationEvent, IntegrationEventType } from './domain/ports';
export { INTEGRATION_EVENTS_EXCHANGE } from './adapters/bus-integration-events';
