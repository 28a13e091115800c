'use strict';
// The integration service as a benchmark needs it: its own process on a temp SQLite store, and one
// integration created through the public API (the webhook secret comes back only there).
const { randomBytes } = require('node:crypto');
const path = require('node:path');
const { freePort, startNode } = require('./processes');

const ROOT = path.resolve(__dirname, '../..');

async function startIntegrationProcess({ env, dir, adminToken }) {
  const port = await freePort();
  const proc = await startNode(
    'integration',
    path.join(ROOT, 'services/integration/dist/src/roles/integration.js'),
    {
      ...env,
      PORT: String(port),
      STORE_URL: `sqlite:${path.join(dir, 'integration.db')}`,
      ADMIN_TOKEN: adminToken,
      MASTER_KEY: randomBytes(32).toString('base64'),
      STACK_TRIGGER_URL: 'http://127.0.0.1:9',
    },
    `http://127.0.0.1:${port}/readyz`,
  );
  return { proc, url: `http://127.0.0.1:${port}` };
}

/** Creates an integration; resolves `{id, webhook: {endpoint, secret}}`. */
async function createIntegration(url, adminToken, { name, apiHost, username, accessToken }) {
  const res = await fetch(`${url}/api/v1/integrations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name, apiHost, userFacingHost: apiHost, username, accessToken }),
  });
  if (res.status !== 201)
    throw new Error(`creating the integration failed: ${res.status} ${await res.text()}`);
  return res.json();
}

module.exports = { startIntegrationProcess, createIntegration };
