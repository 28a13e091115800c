// The integration service's public entry: what other packages may import. Side-effect free: main.ts
// starts the service only when it is the process (`require.main === module`).

// In-process start for the other services' integration tests (gateway, stack-trigger).
export { startIntegrationService } from './main';
export { integrationConfigSchema, loadIntegrationConfig } from './config';
export type { IntegrationConfig } from './config';
