/**
 * Secretless clients in the console, in headless Debian Chromium against a real
 * `keymint serve --console`: a private_key_jwt client created from a pasted JWKS (the method's
 * inputs shown by the script, no secret page) gets a token through oauth4webapi's private_key_jwt;
 * edited to tls_client_auth with a subject DN, the detail page and the admin API show the name and
 * no keys; a JWKS with a private key shows the client rules' error beside the field, the form as
 * typed, and changes nothing the admin API sees. Every page is checked as flow-browser.test.ts
 * checks them (no error page, console error, CSP refusal or serious axe violation).
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, exportJWK } from 'jose';
import * as oauth from 'oauth4webapi';
import type { Page } from 'playwright-core';
import { basic, tempDir } from '../support/harness.ts';
import { cli, serve, stop, type ServeProcess } from '../support/process.ts';
import { keyPair } from '../support/sender.ts';
import { checkPage, launch, skip, watchErrors } from './support/browser.ts';

const PASSWORD = 'a long enough passphrase';
const key = await keyPair('ES256', 'billing-2026');

describe('console: secretless clients in headless Chromium against keymint serve --console', { skip }, () => {
  const data = tempDir('keymint-console-auth-');
  let server: ServeProcess;
  let base: string;
  let browser: Awaited<ReturnType<typeof launch>>;
  let page: Page;
  let errors: string[] = [];
  let adminToken = '';
  let clientId = '';

  const adminView = async (id: string): Promise<Record<string, unknown>> => {
    const res = await fetch(`${base}/admin/v1/clients/${encodeURIComponent(id)}`, { headers: { authorization: `Bearer ${adminToken}` } });
    assert.equal(res.status, 200);
    return (await res.json()) as Record<string, unknown>;
  };

  /** Whether the form shows the control labelled `label` now (the script hides other methods' inputs). */
  const shown = (label: string) => page.getByLabel(label, { exact: true }).isVisible();

  before(async () => {
    server = await serve(['--data', data, '--console', '--max-event-loop-delay-ms', '0']);
    base = server.url.replace('//127.0.0.1:', '//localhost:');
    // An admin API client, made by the CLI, to read clients as the API shows them.
    const made = await cli(['clients', 'create', '--name', 'ops', '--admin', '--json', '--data', data]);
    assert.equal(made.code, 0, made.stderr);
    const ops = JSON.parse(made.stdout) as { client_id: string; client_secret: string };
    const res = await fetch(`${base}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(ops.client_id, ops.client_secret) }, body: 'grant_type=client_credentials&scope=keymint%3Aadmin' });
    adminToken = ((await res.json()) as { access_token: string }).access_token;
    const link = await cli(['console', 'link', '--data', data, '--issuer', base, '--json']);
    assert.equal(link.code, 0, link.stderr);
    browser = await launch();
    page = await browser.context.newPage();
    errors = watchErrors(page);
    await page.goto((JSON.parse(link.stdout) as { url: string }).url);
    await page.getByLabel('New password').fill(PASSWORD);
    await page.getByLabel('Repeat the password').fill(PASSWORD);
    await Promise.all([page.waitForURL(`${base}/console/clients`), page.getByRole('button', { name: 'Save and continue' }).click()]);
  });
  after(async () => {
    await browser?.close();
    if (server) await stop(server);
    rmSync(data, { recursive: true, force: true });
  });

  test('CO-05 CO-07 create a private_key_jwt client from a pasted JWKS; oauth4webapi gets a token with it', async () => {
    await page.goto(`${base}/console/clients/new`);
    await page.getByLabel('Name', { exact: true }).fill('Billing (keys)');
    await page.getByLabel('Scopes', { exact: true }).fill('payments:read');
    // The script shows only the chosen method's inputs.
    assert.deepEqual([await shown('JSON Web Key Set'), await shown('Certificate subject DN')], [false, false]);
    await page.getByLabel('Authentication method').selectOption('private_key_jwt');
    assert.deepEqual([await shown('JSON Web Key Set'), await shown('JWKS URL'), await shown('Certificate subject DN')], [true, true, false]);
    await page.getByLabel('JSON Web Key Set').fill(JSON.stringify({ keys: [key.jwk] }, null, 2));
    await checkPage(page, errors, 'client-keys');
    await page.getByRole('button', { name: 'Create client' }).click();
    // No one-time secret page: the client's own page, which says why.
    await page.getByText('It authenticates without a secret, so none was made.').waitFor();
    clientId = decodeURIComponent(new URL(page.url()).pathname.split('/').at(-1)!);
    assert.match(await page.locator('dl.props').innerText(), /Authentication\s+private_key_jwt\s+Keys \(JWKS\)\s+1 key: billing-2026 \(EC P-256\)/);
    assert.equal(await page.getByRole('link', { name: 'Rotate secret' }).count(), 0);
    await checkPage(page, errors);

    const issuer = new URL(base);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { [oauth.allowInsecureRequests]: true }));
    const client: oauth.Client = { client_id: clientId };
    const auth = oauth.PrivateKeyJwt({ key: key.privateKey, kid: key.jwk.kid });
    const result = await oauth.processClientCredentialsResponse(
      as, client, await oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams({ scope: 'payments:read' }), { [oauth.allowInsecureRequests]: true }),
    );
    assert.deepEqual([decodeJwt(result.access_token).client_id, result.scope], [clientId, 'payments:read']);
  });

  test('CO-06 a JWKS holding a private key: the rule\'s error beside the field, the form as typed, nothing changed', async () => {
    const before = await adminView(clientId);
    await page.goto(`${base}/console/clients/${encodeURIComponent(clientId)}/edit`);
    const leaked = JSON.stringify({ keys: [{ ...(await exportJWK(key.privateKey)), kid: 'leaked' }] });
    await page.getByLabel('JSON Web Key Set').fill(leaked);
    await page.getByLabel('Scopes', { exact: true }).fill('payments:read\npayments:write');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('The form was not saved:').waitFor();
    // The refusal's 400 is the one console message the browser logs, as intended.
    const refusal = errors.findIndex((e) => /\/edit: Failed to load resource: the server responded with a status of 400/.test(e));
    assert.ok(refusal >= 0, 'answered 400');
    errors.splice(refusal, 1);
    assert.equal(await page.locator('#f-jwks-error').innerText(), 'the JWKS holds private or symmetric key material');
    assert.equal(await page.getByLabel('JSON Web Key Set').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByLabel('JSON Web Key Set').inputValue(), leaked, 'the JWKS as typed');
    assert.equal(await page.getByLabel('Scopes', { exact: true }).inputValue(), 'payments:read\npayments:write', 'the other fields as typed');
    assert.equal(await page.getByLabel('Authentication method').inputValue(), 'private_key_jwt');
    await checkPage(page, errors);
    assert.deepEqual(await adminView(clientId), before, 'the refused form changed nothing');
  });

  test('CO-05 edit it to tls_client_auth with a subject DN: the detail page and the admin API show it, and no keys', async () => {
    await page.goto(`${base}/console/clients/${encodeURIComponent(clientId)}/edit`);
    await page.getByLabel('Authentication method').selectOption('tls_client_auth');
    assert.deepEqual([await shown('JSON Web Key Set'), await shown('Certificate subject DN'), await shown('Certificate DNS name')], [false, true, true]);
    await page.getByLabel('Certificate subject DN').fill('CN=billing,O=Acme');
    await page.getByRole('checkbox', { name: /Certificate-bound tokens/ }).check();
    await checkPage(page, errors, 'client-tls-edit');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('It authenticates another way now: it holds no secret, and its tokens were revoked.').waitFor();
    const props = await page.locator('dl.props').innerText();
    assert.match(props, /Authentication\s+tls_client_auth\s+Keys \(JWKS\)\s+none\s+Certificate name \(tls_client_auth\)\s+subject DN CN=billing,O=Acme/);
    assert.match(props, /Certificate-bound tokens\s+yes/);
    await checkPage(page, errors);
    const view = await adminView(clientId);
    assert.deepEqual(
      [view.token_endpoint_auth_method, view.tls_client_auth_subject_dn, view.jwks, view.tls_client_certificate_bound_access_tokens],
      ['tls_client_auth', 'CN=billing,O=Acme', undefined, true],
    );
  });
});
