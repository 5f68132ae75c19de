import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousViolations } from '../support/axe';
import { launchBrowser } from '../support/browser';
import { startTestPortal, type TestPortal } from '../support/portal';

describe('the API reference at /api/docs', () => {
  let portal: TestPortal;
  let browser: Browser;
  beforeAll(async () => {
    portal = await startTestPortal('sqlite', {}, { queueWorker: true });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await portal?.close();
  });

  it.each([
    { width: 1366, height: 768 },
    { width: 390, height: 844 },
  ])('has no serious or critical axe violations at $width px, with an operation opened', async (viewport) => {
    const context = await browser.newContext({ baseURL: portal.url, viewport });
    const page = await context.newPage();
    await page.goto('/api/docs');
    await page.getByRole('heading', { name: /Tenantgate API/ }).waitFor();
    await page.locator('.opblock').first().waitFor();
    expect(await seriousViolations(page), 'docs page').toEqual([]);
    // One operation opened: its parameters and responses are the parts people read.
    await page.locator('.opblock-summary-control').first().click();
    await page.locator('.opblock-body').first().waitFor();
    expect(await seriousViolations(page), 'docs with an operation open').toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth), 'page wider than the window').toBeLessThanOrEqual(0);
    await context.close();
  });
});
