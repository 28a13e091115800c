// The integration service's public entry: what other packages may import. Side-effect free:
// roles/integration.ts starts the service only when it is the process (`require.main === module`).

// In-process start for the other services' integration tests (gateway, stack-trigger).
export { startIntegrationService } from './roles/integration';
export { integrationConfigSchema, loadIntegrationConfig } from './config';
export type { IntegrationConfig } from './config';
// `stacklink admin reencrypt` (libs/cli).
export { reencryptStore } from './reencrypt';
export type { ReencryptReport } from './domain/reencrypt-secrets';
