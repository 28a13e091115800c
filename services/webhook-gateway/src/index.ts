// The webhook-gateway's public entry: what other packages may import. Side-effect free:
// roles/gateway.ts starts the gateway (and sets its V8 flags) only when it is the process (`require.main === module`).

// In-process start for stack-trigger's integration tests; the schema for the system tests' role checks.
export { startGateway } from './roles/gateway';
export { gatewayConfigSchema, loadGatewayConfig } from './config';
export type { GatewayConfig } from './config';
