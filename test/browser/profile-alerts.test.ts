import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousViolations } from '../support/axe';
import { launchBrowser, newPage, screenshot, signInAtMicrosoft, signUpInBrowser } from '../support/browser';
import { CONTOSO } from '../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../support/portal';

// Issue 10, section 2: a banner on the affected page. The app profile page shows the selected (or only) profile's
// open alerts with cause and fix, from the notifications the bell lists, and not once the condition clears.

const SIZES = [
  { width: 1366, height: 768 },
  { width: 390, height: 844 },
] as const;

describe('open alerts on the app profile page', () => {
  let portal: TestPortal;
  let browser: Browser;
  let admin: { context: BrowserContext; page: Page };

  const sandbox = (path: string, body: unknown) =>
    fetch(`${portal.sandbox!.baseUrl}/_sandbox${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    portal = await startTestPortal('sqlite', {}, { queueWorker: true });
    browser = await launchBrowser();
    admin = await newPage(browser, portal.url);
    await signUpInBrowser(admin.page, 'Banner Partners');
    const { page } = admin;
    await page.goto('/settings/app-profiles');
    await page.getByRole('heading', { name: 'Partner app profile' }).waitFor();
    await page.getByRole('button', { name: 'Connect a Microsoft 365 tenant' }).click();
    const create = page.getByRole('dialog', { name: 'Create' });
    await create.getByLabel('Profile name').fill('Contoso');
    await create.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('dialog', { name: 'Go to Microsoft 365 sign-in' }).getByRole('button', { name: 'OK' }).click();
    await signInAtMicrosoft(page, CONTOSO.admin);
    await page.getByRole('button', { name: 'Accept' }).click();
    await page.getByRole('row').filter({ hasText: 'Contoso' }).waitFor();
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await portal?.close();
  });

  it('shows permission drift with its cause and fix above the list, axe clean and without overflow at 1366 and 390 px', async () => {
    const { page } = admin;
    const banner = page.getByRole('region', { name: 'Open alerts for Contoso' });
    expect(await banner.count()).toBe(0);

    const clientId = portal.services.microsoft.apps.global!.clientId;
    expect((await sandbox(`/tenants/${CONTOSO.id}/remove-permissions`, { clientId, scopes: ['Domain.Read.All'] })).status).toBe(204);
    await portal.services.appProfiles.health.sweep({ olderThanMs: 0 });
    await expect.poll(async () => (await portal.services.db.selectFrom('notifications').select('type').execute()).map((n) => n.type)).toContain('permission_drift');

    await page.reload();
    await banner.getByText('Permissions missing: Contoso').waitFor();
    await banner.getByText(/Microsoft no longer grants Domain\.Read\.All/).waitFor();
    await banner.getByText(/How to fix/).waitFor();
    await banner.getByText(/Re-authorize the app with a Global Administrator/).waitFor();
    for (const size of SIZES) {
      await page.setViewportSize(size);
      await banner.waitFor();
      expect(await seriousViolations(page), `axe at ${size.width}`).toEqual([]);
      expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth), `overflow at ${size.width}`).toBeLessThanOrEqual(0);
      await screenshot(page, `profile-alerts-drift-${size.width}`);
    }
    await page.setViewportSize(SIZES[0]);
  });
});
