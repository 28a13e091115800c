// Docker HEALTHCHECK for every Stacklink image: node:20-slim has no curl, so node GETs the probe itself.
// Usage: node deploy/docker/healthcheck.js <variable holding the port> <default port> [path, default /healthz]
// The port comes from the same variable and default as the role's joi schema (checked by
// libs/system-tests/test/deploy), so a port moved by configuration is still the port probed.
'use strict';

const [portVariable = 'PORT', defaultPort = '8080', probePath = '/healthz'] = process.argv.slice(2);
const port = process.env[portVariable] || defaultPort;

fetch(`http://127.0.0.1:${port}${probePath}`, { signal: AbortSignal.timeout(2500) }).then(
  (res) => process.exit(res.ok ? 0 : 1),
  () => process.exit(1),
);
