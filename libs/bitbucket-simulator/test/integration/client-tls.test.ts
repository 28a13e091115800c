import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createBitbucketClient } from '@stacklink/bitbucket';
import { startSimulator, type BitbucketSimulator } from '../../src';
import { rejection } from './helpers';

/** A throwaway CA and a server certificate for 127.0.0.1/localhost, made with the openssl CLI. */
function makePki(dir: string): { ca: string; otherCa: string; key: string; cert: string } {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '1',
    '-subj',
    '/CN=Stacklink Test CA',
  );
  run(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'other.key',
    '-out',
    'other.pem',
    '-days',
    '1',
    '-subj',
    '/CN=Some Other CA',
  );
  run('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  fs.writeFileSync(
    path.join(dir, 'ext.cnf'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n',
  );
  run(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '1',
    '-extfile',
    'ext.cnf',
  );
  const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');
  return {
    ca: read('ca.pem'),
    otherCa: read('other.pem'),
    key: read('server.key'),
    cert: read('server.pem'),
  };
}

describe('client against a TLS simulator', () => {
  let dir: string;
  let pki: ReturnType<typeof makePki>;
  let sim: BitbucketSimulator;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stacklink-tls-'));
    pki = makePki(dir);
    sim = await startSimulator({ tls: { key: pki.key, cert: pki.cert } });
    sim.addUser({ name: 'ci', token: 'tls-token', permission: 'read' });
  });

  after(async () => {
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('trusts the server when given the CA certificate that signed it', async () => {
    expect(sim.url).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
    const client = createBitbucketClient({ baseUrl: sim.url, token: 'tls-token', caCertificate: pki.ca });
    expect((await client.checkCredentials()).username).to.equal('ci');
  });

  it('refuses the server without that CA, with a TLS error that says to set the CA certificate', async () => {
    const client = createBitbucketClient({ baseUrl: sim.url, token: 'tls-token' });
    const err = await rejection(client.getServerVersion());
    expect(err.code).to.equal('BITBUCKET.TLS');
    expect(err.retryable).to.equal(false);
    expect(err.message).to.include('set the CA certificate');
  });

  it('refuses the server when given a CA that did not sign it', async () => {
    const client = createBitbucketClient({
      baseUrl: sim.url,
      token: 'tls-token',
      caCertificate: pki.otherCa,
    });
    const err = await rejection(client.getServerVersion());
    expect(err.code).to.equal('BITBUCKET.TLS');
    expect(sim.recorded.requests.filter((r) => r.path.endsWith('application-properties'))).to.have.length(0);
  });
});
