/**
 * Every console page in headless Chromium, rendered from fixtures by the preview server under the
 * console's CSP: axe-core finds no serious or critical violation (for admins and viewers), nothing
 * is refused by the CSP (CO-04) and no script fails, the skip link is the first Tab stop and moves
 * focus to the main content, a page with its assets weighs under 200 KB, the copy button copies the
 * one-time secret, and the traffic region redraws itself.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launch, pageWeight, seriousViolations, skip, watchErrors } from './support/browser.ts';
import { PAGES, startPreview } from './support/preview.ts';

describe('console pages in headless Chromium', { skip }, () => {
  let preview: Awaited<ReturnType<typeof startPreview>>;
  let browser: Awaited<ReturnType<typeof launch>>;
  before(async () => {
    preview = await startPreview();
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await preview?.close();
  });

  test('axe-core: no serious or critical violations; no CSP refusal or script error; under 200 KB', async () => {
    const page = await browser.context.newPage();
    const errors = watchErrors(page);
    // Viewers see the read-only pages without their controls; each variant is checked.
    const readOnly = ['/console/clients', '/console/keys', '/console/audit', '/console/traffic', '/console/sandbox', Object.keys(PAGES).find((p) => /^\/console\/clients\/sk_[^/]+$/.test(p))!];
    for (const [as, paths] of [['', Object.keys(PAGES)], ['?as=viewer', readOnly]] as const) {
      for (const path of paths) {
        const response = await page.goto(`${preview.url}${path}${as}`, { waitUntil: 'load' });
        assert.equal(response?.status(), path === '/console/missing' ? 404 : 200, path);
        assert.deepEqual(await seriousViolations(page), [], `${path}${as}`);
        const bytes = await pageWeight(page);
        assert.ok(bytes > 0 && bytes < 200_000, `${path}: ${bytes} bytes`);
      }
    }
    // The only console error is the intended 404 of /console/missing.
    assert.deepEqual(errors.filter((e) => !/\/console\/missing.*404/.test(e)), []);
    await page.close();
  });

  test('keyboard: the skip link is the first Tab stop and moves focus to main', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${preview.url}/console/clients`);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement?.textContent'), 'Skip to main content');
    assert.ok(await page.locator('a.skip').isVisible(), 'the focused skip link is visible');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate('document.activeElement?.id'), 'main');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement?.textContent'), 'New client');
    await page.close();
  });

  test('the copy button puts the one-time secret on the clipboard and says so', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${preview.url}/console/secret`);
    await page.getByRole('button', { name: 'Copy secret' }).click();
    await page.getByText('Copied to the clipboard.').waitFor();
    assert.equal(await page.evaluate('navigator.clipboard.readText()'), 'ks_test_Q2hhbmdlTWVJbW1lZGlhdGVseQ');
    await page.close();
  });

  test('the traffic region redraws itself, and can be paused', async () => {
    const page = await browser.context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${preview.url}/console/traffic`);
    const stamp = page.locator('[data-refresh-stamp="traffic-live"]');
    await stamp.filter({ hasText: /^Updated / }).waitFor({ timeout: 10_000 });
    assert.match(await stamp.innerText(), /^Updated /);
    assert.equal(await page.locator('#traffic-live polyline').count(), 7);
    const pause = page.getByRole('button', { name: 'Pause updates' });
    await pause.click();
    assert.equal(await page.getByRole('button', { name: 'Resume updates' }).getAttribute('aria-pressed'), 'true');
    assert.deepEqual(errors, []);
    await page.close();
  });
});
