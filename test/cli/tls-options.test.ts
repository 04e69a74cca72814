/**
 * `keymint serve --tls-cert --tls-key [--tls-client-ca]`: the files are checked before anything is
 * created, each mistake one line with exit code 9; with good files the server says its https URL and
 * answers over TLS (RFC 8705 mutual TLS: docs/mtls.md).
 */
import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
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
    ['cert without key', () => ['--tls-cert', certs.server.certFile], /^keymint: config tls-key: is needed with --tls-cert; give both \(or neither, for plain HTTP\)\n$/],
    ['key without cert', () => ['--tls-key', certs.server.keyFile], /^keymint: config tls-cert: is needed with --tls-key/],
    ['missing cert file', () => ['--tls-cert', join(root, 'nope.pem'), '--tls-key', certs.server.keyFile], /^keymint: config tls-cert: cannot read the certificate .*nope\.pem \(no such file\); point --tls-cert at a readable PEM file\n$/],
    ['a directory as key', () => ['--tls-cert', certs.server.certFile, '--tls-key', root], /^keymint: config tls-key: cannot read the private key .* \(a directory\)/],
    ['not PEM', () => ['--tls-cert', join(root, 'junk.pem'), '--tls-key', certs.server.keyFile], /^keymint: config tls-cert: the certificate .*junk\.pem holds no PEM certificate that can be read\n$/],
    ['key of another certificate', () => ['--tls-cert', certs.server.certFile, '--tls-key', certs.ca.keyFile], /^keymint: config tls-key: .*ca\.key is not the private key of the certificate .*server\.pem; give the key it was issued for\n$/],
    ['client CA not PEM', () => ['--tls-cert', certs.server.certFile, '--tls-key', certs.server.keyFile, '--tls-client-ca', join(root, 'junk.pem')], /^keymint: config tls-client-ca: the client CA bundle .*junk\.pem holds no PEM certificate/],
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

  test('MTLS-03 the environment twins are read too (KEYMINT_TLS_CERT alone)', async () => {
    const data = join(root, 'data-env');
    const r = await cli(['serve', '--port', '0', '--data', data], { KEYMINT_TLS_CERT: certs.server.certFile });
    assert.equal(r.code, EXIT.tls);
    assert.match(r.stderr, /^keymint: config tls-key: is needed with --tls-cert/);
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
