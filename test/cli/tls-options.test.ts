/**
 * `keymint serve --tls-cert --tls-key [--tls-client-ca]`: the files are checked before anything is
 * created, each mistake one line with exit code 9; with good files the server says its https URL and
 * answers over TLS (RFC 8705 mutual TLS: docs/mtls.md).
 */
import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Agent, fetch as ufetch } from 'undici';
import { EXIT } from '../../src/cli/command.ts';
import { makeCerts, type CertKit } from '../support/certs.ts';
import { tempDir } from '../support/harness.ts';
import { cli, serve, stop } from '../support/process.ts';

describe('MTLS-03 serve --tls-cert/--tls-key/--tls-client-ca: operator errors before anything is created', () => {
  let certs: CertKit;
  let root: string;
  before(() => {
    certs = makeCerts();
    root = tempDir('keymint-tls-');
    writeFileSync(join(root, 'junk.pem'), 'not a certificate\n');
  });
  after(async () => {
    await certs.close();
    rmSync(root, { recursive: true, force: true });
  });

  const cases: Array<[string, () => string[], RegExp]> = [
    ['cert without key', () => ['--tls-cert', certs.server.certFile], /^keymint: --tls-key: is needed with --tls-cert; give both \(or neither, for plain HTTP\)\n$/],
    ['key without cert', () => ['--tls-key', certs.server.keyFile], /^keymint: --tls-cert: is needed with --tls-key/],
    ['missing cert file', () => ['--tls-cert', join(root, 'nope.pem'), '--tls-key', certs.server.keyFile], /^keymint: --tls-cert: cannot read the certificate .*nope\.pem \(no such file\); point --tls-cert at a readable PEM file\n$/],
    ['a directory as key', () => ['--tls-cert', certs.server.certFile, '--tls-key', root], /^keymint: --tls-key: cannot read the private key .* \(a directory\)/],
    ['not PEM', () => ['--tls-cert', join(root, 'junk.pem'), '--tls-key', certs.server.keyFile], /^keymint: --tls-cert: the certificate .*junk\.pem holds no PEM certificate that can be read\n$/],
    ['key of another certificate', () => ['--tls-cert', certs.server.certFile, '--tls-key', certs.ca.keyFile], /^keymint: --tls-key: .*ca\.key is not the private key of the certificate .*server\.pem; give the key it was issued for\n$/],
    ['client CA not PEM', () => ['--tls-cert', certs.server.certFile, '--tls-key', certs.server.keyFile, '--tls-client-ca', join(root, 'junk.pem')], /^keymint: --tls-client-ca: the client CA bundle .*junk\.pem holds no PEM certificate/],
  ];
  for (const [name, args, message] of cases) {
    test(`MTLS-03 ${name}: exit ${EXIT.tls}, one line, no data directory`, async () => {
      const data = join(root, `data-${name.replaceAll(' ', '-')}`);
      const r = await cli(['serve', '--port', '0', '--data', data, ...args()]);
      assert.equal(r.code, EXIT.tls, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
      assert.equal(existsSync(data), false);
    });
  }

  const tls = () => ['--tls-cert', certs.server.certFile, '--tls-key', certs.server.keyFile];
  const mtlsCases: Array<[string, () => string[], number, RegExp]> = [
    ['--mtls-port without TLS or the proxy header', () => ['--port', '0', '--mtls-port', '0'], EXIT.tls, /^keymint: --mtls-port: needs --tls-cert and --tls-key \(Keymint ends TLS\) or --client-cert-header \(a proxy ends it\): otherwise no certificate can arrive there\n$/],
    ['--mtls-port equal to --port', () => ['--port', '8443', '--mtls-port', '8443', ...tls()], EXIT.tls, /^keymint: --mtls-port: is the port of the main listener \(--port 8443\); give the mutual-TLS listener a port of its own\n$/],
    ['--mtls-url without --mtls-port', () => ['--port', '0', '--mtls-url', 'https://mtls.example.com', ...tls()], EXIT.tls, /^keymint: --mtls-url: names where the --mtls-port listener is reached; give --mtls-port too\n$/],
    ['--mtls-url over plain http', () => ['--port', '0', '--mtls-port', '0', '--mtls-url', 'http://localhost:8443', ...tls()], EXIT.usage, /^keymint: --mtls-url: must be an https URL: clients reach the mutual-TLS endpoints over TLS\n$/],
  ];
  const crlCases: Array<[string, () => string[], RegExp]> = [
    ['a CRL without --tls-client-ca', () => ['--tls-client-crl', certs.crl('alone', [])], /^keymint: --tls-client-crl: lists certificates revoked by the CAs of --tls-client-ca; give --tls-client-ca too\n$/],
    ['an unreadable CRL file', () => ['--tls-client-ca', certs.ca.certFile, '--tls-client-crl', join(root, 'nope.crl')], /^keymint: --tls-client-crl: cannot read the CRL file .*nope\.crl \(no such file\); point --tls-client-crl at a readable PEM file\n$/],
    ['a certificate as the CRL file', () => ['--tls-client-ca', certs.ca.certFile, '--tls-client-crl', certs.server.certFile], /^keymint: --tls-client-crl: the CRL file .*server\.pem holds no PEM CRL \(X509 CRL\) that can be read\n$/],
    ['a CRL of another CA', () => ['--tls-client-ca', certs.ca.certFile, '--tls-client-crl', certs.crl('other', [], certs.otherCa('crl-other-ca'))], /^keymint: --tls-client-crl: the CRL file .*other\.crl\.pem holds a CRL signed by none of the CAs of --tls-client-ca\n$/],
  ];
  const operatorCases = [
    ...mtlsCases.map(([name, args, code, message]) => ['MTLS-17', name, args, code, message] as const),
    ...crlCases.map(([name, args, message]) => ['MTLS-20', name, () => ['--port', '0', ...tls(), ...args()], EXIT.tls, message] as const),
  ];
  for (const [id, name, args, code, message] of operatorCases) {
    test(`${id} ${name}: exit ${code}, one line, no data directory`, async () => {
      const data = join(root, `data-${name.replace(/\W+/g, '-')}`);
      const r = await cli(['serve', '--data', data, ...args()]);
      assert.equal(r.code, code, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
      assert.equal(existsSync(data), false);
    });
  }

  test('MTLS-17 an --mtls-port in use: exit 3 naming --mtls-port, no data directory', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const busy = (holder.address() as AddressInfo).port;
    try {
      const data = join(root, 'data-mtls-busy');
      const r = await cli(['serve', '--port', '0', '--data', data, ...tls(), '--mtls-port', String(busy)]);
      assert.equal(r.code, EXIT.portBusy, r.stderr);
      assert.equal(r.stderr, `keymint: port ${busy} on 127.0.0.1 is already in use (another keymint serve?); stop that process or choose another --mtls-port\n`);
      assert.equal(existsSync(data), false);
    } finally {
      holder.close();
    }
  });

  test('MTLS-03 the environment twins are read too (KEYMINT_TLS_CERT alone)', async () => {
    const data = join(root, 'data-env');
    const r = await cli(['serve', '--port', '0', '--data', data], { KEYMINT_TLS_CERT: certs.server.certFile });
    assert.equal(r.code, EXIT.tls);
    assert.match(r.stderr, /^keymint: --tls-key: is needed with --tls-cert/);
    assert.equal(existsSync(data), false);
  });

  test('MTLS-01 with good files serve logs its https URL and answers over TLS', async () => {
    const p = await serve(['--data', join(root, 'data-ok'), '--workers', '1', '--tls-cert', certs.server.certFile, '--tls-key', certs.server.keyFile, '--tls-client-ca', certs.ca.certFile]);
    try {
      assert.match(p.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const dispatcher = new Agent({ connect: { ca: certs.ca.cert } });
      const res = await ufetch(`${p.url}/healthz`, { dispatcher });
      assert.equal(res.status, 200);
      await dispatcher.close();
    } finally {
      await stop(p);
    }
  });
});
