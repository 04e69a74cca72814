/**
 * Debian's Chromium through playwright-core, launched the way every console browser test launches
 * it (fresh profile, no network chatter), and axe-core run inside a page. Axe is evaluated through
 * the DevTools protocol, so the page's CSP stays as strict as in production.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export const missing = !existsSync(CHROMIUM);
if (missing && process.env.CI) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
export const skip = missing ? `skipped: ${CHROMIUM} not found (apt-get install -y chromium)` : false;

/** A persistent context in a fresh profile directory, removed on close. */
export async function launch(options: { viewport?: { width: number; height: number } } = {}): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'keymint-console-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: ARGS,
    timeout: 30_000,
    viewport: options.viewport ?? { width: 1200, height: 800 },
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly targets: string[];
}

/** Serious and critical axe-core violations of the page as it is now. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(`${AXE}\n;0`);
  const result = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: string[] }> }> }> } }).axe;
    const { violations } = await axe.run();
    return violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Collects console errors and CSP violations of a page; a test asserts the list is empty. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
  return errors;
}

/**
 * Bytes loading the page took: its document and every resource it loaded (decoded bodies, cached or
 * not), without the script's later fetches (the traffic page's redraws).
 */
export async function pageWeight(page: Page): Promise<number> {
  return page.evaluate(
    `performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource').filter((e) => e.initiatorType !== 'fetch')).reduce((n, e) => n + e.decodedBodySize, 0)`,
  );
}

const DOCS = new URL('../../../docs/console/', import.meta.url).pathname;

/**
 * The page as shown now: not an error page, no serious or critical axe violation, no console error
 * or CSP refusal so far (`errors`, from watchErrors), under 200 KB; with `shot`, photographed to
 * docs/console/<shot>.png (rewritten when missing or with UPDATE_DOCS=1; one-time secrets masked).
 * Resolves to the page's weight in bytes.
 */
export async function checkPage(page: Page, errors: readonly string[], shot?: string): Promise<number> {
  assert.equal(await page.locator('[data-error]').count(), 0, `${page.url()} rendered an error page: ${await page.locator('main').innerText().catch(() => '')}`);
  assert.deepEqual(await seriousViolations(page), [], page.url());
  assert.deepEqual(errors, [], 'console errors or CSP refusals');
  const bytes = await pageWeight(page);
  assert.ok(bytes > 0 && bytes < 200_000, `${page.url()}: ${bytes} bytes`);
  if (shot) {
    mkdirSync(DOCS, { recursive: true });
    const path = join(DOCS, `${shot}.png`);
    const target = process.env.UPDATE_DOCS === '1' || !existsSync(path) ? path : join(tmpdir(), `keymint-console-${process.pid}-${shot}.png`);
    // A one-time secret is masked: secrets never land in a committed file, even a dead server's.
    await page.screenshot({ path: target, fullPage: true, mask: [page.locator('#secret-value')] });
    if (target !== path) rmSync(target, { force: true });
  }
  return bytes;
}
