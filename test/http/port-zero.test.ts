/** A server asked for port 0 advertises the port it bound: in its issuer, discovery and tokens. */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { decodeJwt } from 'jose';
import { EXIT } from '../../src/cli/command.ts';
import { cli, serve, stop } from '../support/process.ts';
import { startServer, tempDir } from '../support/harness.ts';

test('NET-03 createKeymint on port 0 without an issuer: the issuer names the bound port', async (t) => {
  const s = await startServer();
  t.after(() => s.close());
  const port = new URL(s.url).port;
  assert.notEqual(port, '0');
  assert.equal(s.keymint.config.issuer, `http://localhost:${port}`);
  assert.equal(await s.keymint.listen(), Number(port));
  const meta = (await (await fetch(`${s.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, string>;
  assert.equal(meta.issuer, `http://localhost:${port}`);
  assert.equal(meta.token_endpoint, `http://localhost:${port}/oauth2/token`);
  const { id, secret } = await s.client();
  const claims = decodeJwt(String((await s.token(id, secret)).access_token));
  assert.equal(claims.iss, `http://localhost:${port}`);
  assert.equal(claims.aud, `http://localhost:${port}`);
});

test('an explicit issuer is kept as given on port 0', async (t) => {
  const s = await startServer({ issuer: 'https://auth.example' });
  t.after(() => s.close());
  assert.equal(s.keymint.config.issuer, 'https://auth.example');
});

test('NET-03 `keymint serve --port 0` advertises the real port', async (t) => {
  const dataDir = tempDir();
  const p = await serve(['--data', dataDir]);
  t.after(async () => {
    await stop(p);
    rmSync(dataDir, { recursive: true, force: true });
  });
  const port = new URL(p.url).port;
  assert.match(p.logs(), new RegExp(`"issuer":"http://localhost:${port}"`));
  const meta = (await (await fetch(`${p.url}/.well-known/openid-configuration`)).json()) as Record<string, string>;
  assert.equal(meta.issuer, `http://localhost:${port}`);
});

const NOT_HERE = 'keymint: cannot listen on 192.0.2.1: not an address of this machine; set --host to one of its addresses (127.0.0.1, 0.0.0.0)';

test('`keymint serve --port 0` on a host not of this machine: the operator\'s one line, exit 3', async (t) => {
  const data = tempDir('keymint-port0-host-');
  t.after(() => rmSync(data, { recursive: true, force: true }));
  const r = await cli(['serve', '--port', '0', '--host', '192.0.2.1', '--workers', '1', '--data', data]);
  assert.equal(r.stderr, `${NOT_HERE}\n`);
  assert.equal(r.code, EXIT.portBusy);
});

test('`keymint serve --workers 2` on a host that is no address: the one line once (not once per worker), exit 3', async (t) => {
  const data = tempDir('keymint-port0-workers-');
  t.after(() => rmSync(data, { recursive: true, force: true }));
  for (const [host, line] of [
    ['192.0.2.1', NOT_HERE],
    ['256.1.1.1', 'keymint: cannot listen on 256.1.1.1: not an address of this machine, nor a name that resolves to one; set --host to one of its addresses (127.0.0.1, 0.0.0.0)'],
  ]) {
    const r = await cli(['serve', '--port', '0', '--host', host!, '--workers', '2', '--data', data]);
    assert.equal(r.stderr, `${line}\n`, host);
    assert.equal(r.code, EXIT.portBusy, host);
  }
});

test('`keymint serve --workers 2` whose workers fail alike after the primary\'s checks: one of them says why, once, and the server ends with its code', async (t) => {
  // A worker whose start failed used to stay alive (its channel to the primary holds it), and the
  // primary, which says where it listens once every worker has, waited for it forever. Then every
  // worker printed the same line. Here each worker holds the port itself before the cluster binds it.
  const data = tempDir('keymint-port0-workers-');
  t.after(() => rmSync(data, { recursive: true, force: true }));
  const port = await freePort();
  const preload = new URL('../support/worker-holds-port.mjs', import.meta.url).href;
  const r = await cli(['serve', '--port', String(port), '--host', '127.0.0.1', '--workers', '2', '--data', data], {
    NODE_OPTIONS: `--import ${preload}`,
    KEYMINT_TEST_HOLD_PORT: String(port),
  });
  assert.equal(r.stderr, `keymint: port ${port} on 127.0.0.1 is already in use (another keymint serve?); stop that process or choose another --port\n`);
  assert.equal(r.code, EXIT.portBusy);
});

function freePort(): Promise<number> {
  const probe = createServer();
  return new Promise((resolve) => probe.listen(0, '127.0.0.1', () => {
    const { port } = probe.address() as AddressInfo;
    probe.close(() => resolve(port));
  }));
}
