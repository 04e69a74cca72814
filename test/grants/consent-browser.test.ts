/**
 * The consent page in a real browser: headless Debian Chromium driven by playwright-core walks
 * authorize → consent → Allow → redirect with code → token exchange, and saves a screenshot to
 * docs/consent-page.png. Without /usr/bin/chromium the test skips outside CI and fails in CI
 * (.ci/run installs it).
 */
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { basic, pkce, startGrantServer, type GrantServer } from './support.ts';

const CHROMIUM = '/usr/bin/chromium';
// The committed screenshot is rewritten when missing or with UPDATE_DOCS=1; otherwise the shot goes
// to the temp directory, so a test run does not dirty the work tree (the port in the page differs).
const DOCS_SHOT = new URL('../../docs/consent-page.png', import.meta.url).pathname;
const SCREENSHOT = !existsSync(DOCS_SHOT) || process.env.UPDATE_DOCS === '1' ? DOCS_SHOT : join(tmpdir(), `keymint-consent-${process.pid}.png`);
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const missing = !existsSync(CHROMIUM);
if (missing && process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run should have installed Debian's chromium`);

describe('consent page in headless Chromium', { skip: missing ? `skipped: ${CHROMIUM} not found (apt-get install -y chromium)` : false }, () => {
  let s: GrantServer;
  before(async () => {
    s = await startGrantServer();
  });
  after(() => s?.close());

  test('authorize → consent → Allow → redirect with code → token exchange', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 });
    try {
      // The app's callback is on the loopback address (only 127.0.0.1 is reachable here); Keymint
      // answers it 404, which is fine: the browser's URL is what carries the code back.
      const CB = `${s.url}/app/callback`;
      const app = await s.client({ name: 'Acme Reports', grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'invoices:read', 'customers:read'], redirectUris: [CB] });
      const { session_token } = await s.session();
      const context = await browser.newContext({ viewport: { width: 720, height: 640 } });
      await context.addCookies([{ name: 'keymint_session', value: session_token, url: s.url, httpOnly: true, sameSite: 'Lax' }]);
      const page = await context.newPage();
      const { verifier, challenge } = pkce();
      const query = new URLSearchParams({ response_type: 'code', client_id: app.id, redirect_uri: CB, scope: 'openid invoices:read customers:read', state: 'st-42', code_challenge: challenge, code_challenge_method: 'S256' });
      const response = await page.goto(`${s.url}/oauth2/authorize?${query}`);
      assert.equal(response?.status(), 200);

      // Accessible structure: a level-1 heading naming the client, the scopes, two named buttons.
      assert.match(await page.getByRole('heading', { level: 1 }).innerText(), /Authorize Acme Reports\?/);
      assert.equal(await page.getByRole('listitem').count(), 3);
      assert.ok(await page.getByRole('button', { name: 'Allow' }).isVisible());
      assert.ok(await page.getByRole('button', { name: 'Deny' }).isVisible());
      assert.equal(await page.locator('html').getAttribute('lang'), 'en');
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      if (SCREENSHOT !== DOCS_SHOT) rmSync(SCREENSHOT, { force: true });

      await Promise.all([page.waitForURL((url) => url.pathname === '/app/callback'), page.getByRole('button', { name: 'Allow' }).click()]);
      const callback = new URL(page.url());
      assert.equal(callback.searchParams.get('state'), 'st-42');
      const code = String(callback.searchParams.get('code'));
      assert.match(code, /^km_ac_/);

      const token = await s.postForm('/oauth2/token', { grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: verifier }, { authorization: basic(app.id, app.secret) });
      const body = await s.json(token);
      assert.equal(token.status, 200, JSON.stringify(body));
      assert.equal(body.scope, 'openid invoices:read customers:read');
      assert.ok(body.refresh_token);
      assert.ok(body.id_token);
    } finally {
      await browser.close();
    }
  });
});
