/**
 * The sandbox panel in headless Debian Chromium against a real `keymint sandbox --console` process:
 * the first sign-in through the one-time link it prints; a fault added from the panel's form and the
 * next token request answered with it over HTTP (Orum's 429 with Retry-After and X-Retry-In); a
 * refused fault shown beside its field; the clock advanced from the panel and a token issued before
 * then inactive at introspection; the fault's counters and the request record on the page; remove
 * and reset. Every page is checked as it is shown (no error page, axe, no CSP refusal, weight); the
 * panel's screenshot goes to docs/console/sandbox.png.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { basic, tempDir } from '../support/harness.ts';
import { BIN } from '../support/process.ts';
import { checkPage, launch, skip, watchErrors } from './support/browser.ts';

const SECRET = 'orum-app-secret-of-the-browser-test';
const PASSWORD = 'a long enough passphrase';
const FILE = `version: 1
clients:
  orum-app:
    dialects: [orum, oauth2]
    secret: { value: "${SECRET}" }
sandbox:
  console: true
`;

describe('the sandbox panel in headless Chromium against keymint sandbox --console', { skip }, () => {
  const dir = tempDir('keymint-sandbox-console-');
  let child: ChildProcess;
  let out = '';
  let base: string;
  let link: string;
  let clientId: string;
  let browser: Awaited<ReturnType<typeof launch>>;
  let page: Page;
  let errors: string[] = [];

  const token = () => fetch(`${base}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_id: clientId, client_secret: SECRET }) });
  const introspect = async (accessToken: string) => {
    const res = await fetch(`${base}/oauth2/introspect`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(clientId, SECRET) }, body: `token=${accessToken}` });
    assert.equal(res.status, 200);
    return ((await res.json()) as { active: boolean }).active;
  };
  const row = (id: string) => page.locator(`#faults tr[data-fault="${id}"]`);

  before(async () => {
    const file = join(dir, 'keymint.sandbox.yaml');
    writeFileSync(file, FILE);
    child = spawn(process.execPath, [BIN, 'sandbox', '--file', file, '--console'], { stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Ctrl-C stops it.')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`keymint sandbox exited ${code}: ${out}`)));
    });
    // The issuer is http://localhost:<port>: a secure context, where the __Host- session cookie lives.
    base = /issuer (http:\/\/localhost:\d+) /.exec(out)![1]!;
    clientId = /orum-app +(sk_live_\w+) +secret from the file/.exec(out)![1]!;
    browser = await launch({ viewport: { width: 1200, height: 800 } });
    page = await browser.context.newPage();
    errors = watchErrors(page);
  });
  after(async () => {
    await browser?.close();
    if (child && child.exitCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test('keymint sandbox --console prints the console and a one-time link; the link signs admin in', async () => {
    assert.match(out, new RegExp(`^console: ${base}/console/ \\(its Sandbox page shows and changes the faults and the clock\\)$`, 'm'));
    link = /^ {2}(http:\/\/localhost:\d+\/console\/link\?token=kml_\w+)$/m.exec(out)![1]!;
    assert.equal((await page.goto(link))?.status(), 200);
    await checkPage(page, errors);
    await page.getByLabel('New password').fill(PASSWORD);
    await page.getByLabel('Repeat the password').fill(PASSWORD);
    await Promise.all([page.waitForURL(`${base}/console/clients`), page.getByRole('button', { name: 'Save and continue' }).click()]);
    assert.match(await page.locator('.who').innerText(), /admin\s+admin/);
    assert.match(await page.locator('.sandbox-banner').innerText(), /Sandbox mode/);
    await Promise.all([page.waitForURL(`${base}/console/sandbox`), page.getByRole('link', { name: 'Sandbox', exact: true }).click()]);
    await checkPage(page, errors);
    assert.match(await page.locator('#faults-h + p, section[aria-labelledby="faults-h"] .empty').first().innerText(), /No faults/);
  });

  test('a fault added in the panel answers the next token request: Orum\u2019s 429 with its retry headers', async () => {
    const before = (await (await token()).json()) as { access_token: string };
    await page.getByLabel('Dialect').selectOption('orum');
    await page.getByLabel('Client', { exact: true }).fill('orum-app');
    await page.getByLabel('Endpoint').selectOption('token');
    await page.getByLabel('Times').fill('1');
    await page.getByLabel('Answer with status').selectOption('429');
    await page.getByLabel('Retry after (seconds)').fill('30');
    await Promise.all([page.waitForURL(`${base}/console/sandbox?done=fault-added`), page.getByRole('button', { name: 'Add the fault' }).click()]);
    await page.getByText('The fault is in force.').waitFor();
    assert.match(await row('f1').innerText(), /dialect: orum.*client: orum-app.*endpoint: token.*times: 1.*status: 429.*retryAfter: 30/s);
    await checkPage(page, errors);

    const limited = await token();
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '30');
    assert.equal(limited.headers.get('x-retry-in'), '30000');
    await limited.body?.cancel();
    const after = await token();
    assert.equal(after.status, 200, 'the fault fired once');
    await after.body?.cancel();

    await page.reload();
    const cells = await row('f1').locator('td.num').allInnerTexts();
    assert.deepEqual(cells, ['1', '0'], 'fired once, none remaining');
    const record = await page.locator('#requests tbody tr').allInnerTexts();
    assert.match(record[1]!, /POST \/oauth\/token.*orum-app.*client_credentials\s+429\s+rate_limited\s+f1/s);
    assert.equal(await introspect(before.access_token), true);
  });

  test('a fault the sandbox refuses is shown beside its field, never a 5xx', async () => {
    await page.getByLabel('Client', { exact: true }).fill('orum-app');
    await page.getByLabel('Fraction').fill('1.5');
    await page.getByLabel('Answer with status').selectOption('503');
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${base}/console/sandbox/faults` && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Add the fault' }).click(),
    ]);
    assert.equal(answer.status(), 400);
    await page.getByRole('alert').waitFor();
    assert.match(await page.getByRole('alert').innerText(), /Fraction: must be a number in \(0, 1\]/);
    assert.equal(await page.getByLabel('Fraction').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByLabel('Fraction').inputValue(), '1.5', 'the form keeps what was typed');
    assert.equal(await page.locator('#faults tbody tr').count(), 1, 'nothing added');
    // The browser logs the 400 it was answered; that one error is the expected one.
    assert.deepEqual(errors.splice(0), [`${base}/console/sandbox/faults: Failed to load resource: the server responded with a status of 400 (Bad Request)`]);
    await checkPage(page, errors);
  });

  test('advancing the clock in the panel: a token issued before is inactive at introspection', async () => {
    const issued = (await (await token()).json()) as { access_token: string };
    assert.equal(await introspect(issued.access_token), true);
    await page.goto(`${base}/console/sandbox`);
    await page.getByLabel('Advance by').fill('2');
    await page.getByLabel('Unit').selectOption('hours');
    await Promise.all([page.waitForURL(`${base}/console/sandbox?done=clock-advanced`), page.getByRole('button', { name: 'Advance the clock' }).click()]);
    assert.match(await page.locator('[data-sandbox="offset"]').innerText(), /^\+2 h \(7200000 ms\)$/);
    assert.equal(await introspect(issued.access_token), false);
    await page.reload();
    await checkPage(page, errors, 'sandbox');
  });

  test('remove the fault, reset the sandbox; every change audited under admin', async () => {
    await Promise.all([page.waitForURL(`${base}/console/sandbox?done=fault-removed`), row('f1').getByRole('button', { name: 'Remove fault f1' }).click()]);
    assert.equal(await page.locator('#faults').count(), 0);
    await Promise.all([page.waitForURL(`${base}/console/sandbox?done=reset`), page.getByRole('button', { name: 'Reset the sandbox' }).click()]);
    assert.match(await page.locator('[data-sandbox="offset"]').innerText(), /^0 /);
    await checkPage(page, errors);
    await page.goto(`${base}/console/audit?actor=console:admin&action=sandbox.`);
    const audit = await page.locator('table').innerText();
    for (const action of ['sandbox.fault_add', 'sandbox.clock_advance', 'sandbox.fault_remove', 'sandbox.reset']) assert.match(audit, new RegExp(`console:admin\\s+${action.replace('.', '\\.')}`));
    await checkPage(page, errors);
  });
});
