/**
 * RP-Initiated Logout in a real browser: headless Debian Chromium (playwright-core) holds the
 * platform's `SameSite=Lax` session cookie for Keymint (127.0.0.1) and is on an app's page on
 * another site (localhost). The app's page posts its logout form cross-site: Chromium sends no Lax
 * cookie with that POST, Keymint answers 303 to GET, the top-level GET carries the cookie, the user
 * confirms on Keymint's page, and lands on the app's registered URI with its state. Without
 * /usr/bin/chromium the test skips outside CI and fails in CI, as the consent page's does.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../support/harness.ts';
import { startGrantServer, type GrantServer } from './support.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const missing = !existsSync(CHROMIUM);
if (missing && process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run should have installed Debian's chromium`);

describe('RP-Initiated Logout in headless Chromium', { skip: missing ? `skipped: ${CHROMIUM} not found (apt-get install -y chromium)` : false }, () => {
  let s: GrantServer;
  let app: Server;
  let appOrigin: string;
  before(async () => {
    // The issuer is the address the cookie is set for: the 303 goes to the issuer's URL.
    const port = await freePort();
    s = await startGrantServer({ port: String(port), issuer: `http://127.0.0.1:${port}` });
    app = createServer((req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(req.url?.startsWith('/bye') ? '<h1>Signed out of the app</h1>' : ''));
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    appOrigin = `http://localhost:${(app.address() as AddressInfo).port}`;
  });
  after(async () => {
    await s?.close();
    await new Promise<void>((resolve) => app?.close(() => resolve()));
  });

  test('LOGOUT-08 LOGOUT-05 an app on another site posts its logout form: 303 to GET brings the Lax cookie, the user confirms, the session ends, the browser lands on the app\'s URI with its state', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 });
    try {
      const bye = `${appOrigin}/bye`; // http://localhost: a sandbox client's URI (RED-02)
      const client = await s.client({ name: 'Acme Reports', mode: 'sandbox', grants: ['authorization_code'], scopes: ['openid'], redirectUris: ['https://app.example/cb'], postLogoutRedirectUris: [bye] });
      const session = await s.session({ subject: 'browser-user' });
      const context = await browser.newContext();
      await context.addCookies([{ name: 'keymint_session', value: session.session_token, url: s.url, httpOnly: true, sameSite: 'Lax' }]);
      const page = await context.newPage();
      // What the browser sent to the end-session endpoint: each request's method and whether it carried a cookie.
      const sent: Array<import('playwright-core').Request> = [];
      page.on('request', (r) => {
        if (new URL(r.url()).pathname === '/oauth2/logout') sent.push(r);
      });
      // The app's page (another site: localhost, not 127.0.0.1) with its logout form, as OIDC RP-Initiated Logout §2 allows.
      await page.goto(`${appOrigin}/`);
      await page.setContent(`<form method="post" action="${s.url}/oauth2/logout">
<input type="hidden" name="client_id" value="${client.id}">
<input type="hidden" name="post_logout_redirect_uri" value="${bye}">
<input type="hidden" name="state" value="st-b">
<button type="submit">Log out</button></form>`);
      await Promise.all([page.waitForURL((url) => url.pathname === '/oauth2/logout' && url.search !== ''), page.getByRole('button', { name: 'Log out' }).click()]);
      assert.match(await page.getByRole('heading', { level: 1 }).innerText(), /Sign out\?/);
      assert.match(await page.locator('main').innerText(), /Acme Reports is asking to sign you out/);

      await Promise.all([page.waitForURL((url) => url.origin === appOrigin && url.pathname === '/bye'), page.getByRole('button', { name: 'Sign out' }).click()]);
      assert.equal(new URL(page.url()).searchParams.get('state'), 'st-b');
      assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Signed out of the app');
      // The cross-site POST came without the cookie; the GET after the 303 and the confirmation with it.
      const seen = await Promise.all(sent.map(async (r) => [r.method(), (await r.allHeaders()).cookie !== undefined]));
      assert.deepEqual(seen, [['POST', false], ['GET', true], ['POST', true]]);
      assert.equal(await s.keymint.sessions.resolve(session.session_token), undefined, 'the session is ended');
    } finally {
      await browser.close();
    }
  });
});
