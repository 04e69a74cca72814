/**
 * `keymint serve --workers 2 --mtls-port 0` through the real CLI: every worker serves the
 * mutual-TLS listener beside the main one; token requests at the aliases are counted in the summed
 * /metrics; SIGTERM drains that listener as it drains the main one.
 */
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { decodeJwt } from 'jose';
import { fetch as ufetch } from 'undici';
import { makeCerts, type CertKit, type Issued } from '../support/certs.ts';
import { tempDir } from '../support/harness.ts';
import { cli, serve, stop, type ServeProcess } from '../support/process.ts';
import { childrenOf, ownerOf, refusesConnections } from '../support/sockets.ts';

const onLinux = existsSync('/proc/net/tcp');
const data = tempDir('keymint-mtls-workers-');
let certs: CertKit;
let billing: Issued;
let server: ServeProcess;
let mtlsUrl: string;
let mtlsPort: number;
let clientId: string;

before(async () => {
  certs = makeCerts();
  billing = certs.client('billing', { san: 'DNS:billing.example' });
  server = await serve(['--data', data, '--workers', '2', '--log-level', 'info', '--rate-limit-client', '0', '--tls-cert', certs.server.certFile, '--tls-key', certs.server.keyFile, '--tls-client-ca', certs.ca.certFile, '--mtls-port', '0']);
  mtlsUrl = /"mtlsUrl":"(https:[^"]+)"/.exec(server.logs())?.[1] ?? '';
  mtlsPort = Number(new URL(mtlsUrl).port);
  const r = await cli(['clients', 'create', '--data', data, '--name', 'billing', '--auth-method', 'tls_client_auth', '--tls-san-dns', 'billing.example', '--cert-bound', '--scope', 'read', '--json']);
  assert.equal(r.code, 0, r.stderr);
  clientId = JSON.parse(r.stdout).client_id;
});
after(async () => {
  await stop(server);
  await certs.close();
  rmSync(data, { recursive: true, force: true });
});

const body = () => `grant_type=client_credentials&client_id=${encodeURIComponent(clientId)}`;

/** A TLS connection to the mutual-TLS listener presenting the client's certificate. */
async function mtlsSocket(): Promise<TLSSocket> {
  const socket = tlsConnect({ host: '127.0.0.1', port: mtlsPort, servername: 'localhost', ca: certs.ca.cert, cert: billing.cert, key: billing.key });
  await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  return socket;
}

/** The summed /metrics of the main listener. */
const metrics = async () => (await ufetch(`${server.url}/metrics`, { dispatcher: certs.agent() })).text();

test('MTLS-18 with --workers 2 both workers serve the mutual-TLS listener; its token requests are counted in /metrics', async () => {
  assert.match(mtlsUrl, /^https:\/\/localhost:\d+$/, 'the listening line names the mutual-TLS URL');
  const count = async () => {
    const text = await metrics();
    assert.match(text, /^keymint_workers 2$/m);
    return Number(/^keymint_token_requests_total\{dialect="oauth2",grant="client_credentials",result="ok"\} (\d+)$/m.exec(text)?.[1] ?? 0);
  };
  const before = await count();
  const workers = childrenOf(server.child.pid!);
  const owners = new Set<number | undefined>();
  for (let i = 0; i < 8; i++) {
    // A new connection each time: node:cluster hands them to the workers in turn.
    const socket = await mtlsSocket();
    const local = socket.localPort!;
    const reply = await new Promise<string>((resolve) => {
      let text = '';
      socket.setEncoding('utf8').on('data', (d: string) => (text += d));
      socket.once('end', () => resolve(text));
      socket.write(`POST /oauth2/token HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: ${body().length}\r\n\r\n${body()}`);
      if (onLinux) owners.add(ownerOf(workers, mtlsPort, local));
    });
    assert.match(reply, /^HTTP\/1\.1 200 /, reply);
    const token = JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4)) as { access_token: string };
    assert.deepEqual(decodeJwt(token.access_token).cnf, { 'x5t#S256': billing.thumbprint });
  }
  assert.equal((await count()) - before, 8);
  if (onLinux) assert.equal([...owners].filter((o) => o !== undefined).length, 2, 'connections to the mutual-TLS port were served by both workers');
});

test('MTLS-18 SIGTERM drains the mutual-TLS listener: a request in flight there is answered with Connection: close, new connections are refused, exit 0', async () => {
  const sock = await mtlsSocket();
  let reply = '';
  sock.setEncoding('utf8').on('data', (d: string) => (reply += d));
  const closed = new Promise((r) => sock.once('close', r));
  sock.write(`POST /oauth2/token HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: ${body().length}\r\n\r\n${body().slice(0, 10)}`);
  const deadline = Date.now() + 30_000;
  while (!/^keymint_http_in_flight 1$/m.test(await metrics())) {
    assert.ok(Date.now() < deadline, 'hang guard: the worker never admitted the request');
    await new Promise((r) => setTimeout(r, 20));
  }
  const exited = new Promise<number | null>((r) => server.child.once('exit', (code) => r(code)));
  server.child.kill('SIGTERM');
  assert.ok(await refusesConnections(mtlsPort), 'new connections to the mutual-TLS port are refused while draining');
  sock.write(body().slice(10));
  await closed;
  assert.match(reply, /^HTTP\/1\.1 200 /);
  assert.match(reply, /\r\nconnection: close\r\n/i);
  assert.match(reply, /"access_token":"ey/);
  assert.equal(await exited, 0);
});
