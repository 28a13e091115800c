import { execFileSync } from 'node:child_process';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { createTempDir } from './temp-dir';

/** A loopback port nothing listens on: bound on port 0, then closed. */
export async function closedPort(): Promise<number> {
  const server = createHttpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface TestServer {
  url: string;
  close(): Promise<void>;
}

async function listen(server: Server, scheme: 'http' | 'https'): Promise<TestServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const LOGIN_PAGE =
  '<!DOCTYPE html><html><head><title>Sign in</title></head><body><h1>Corporate portal</h1></body></html>';

/** Something that is not Bitbucket: an HTML page on every path, like a portal or a login proxy. */
export function startHtmlServer(): Promise<TestServer> {
  return listen(
    createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(LOGIN_PAGE);
    }),
    'http',
  );
}

export interface SelfSignedCertificate {
  key: string;
  cert: string;
}

/** A self-signed certificate for 127.0.0.1, made with the machine's openssl at test time. */
export function createSelfSignedCertificate(): SelfSignedCertificate {
  const dir = createTempDir('tls');
  try {
    const keyPath = join(dir.path, 'key.pem');
    const certPath = join(dir.path, 'cert.pem');
    execFileSync(
      '/usr/bin/openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        keyPath,
        '-out',
        certPath,
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8') };
  } finally {
    dir.remove();
  }
}

/** An HTTPS server with a self-signed certificate, answering HTML. */
export function startSelfSignedHtmlServer(certificate: SelfSignedCertificate): Promise<TestServer> {
  return listen(
    createHttpsServer({ key: certificate.key, cert: certificate.cert }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end(LOGIN_PAGE);
    }),
    'https',
  );
}
