import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../support/api-client';
import { seriousViolations } from '../support/axe';
import { launchBrowser, newPage, PORTAL_PASSWORD, screenshot, signInAtMicrosoft, signUpInBrowser } from '../support/browser';
import { CONTOSO } from '../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../support/portal';

// Issue 9: the app profile page shows the profile's background work. A group member download made to fail by a
// Graph fault of the sandbox shows "Waiting to retry" with when and why, then "Failed" with its reason once out
// of attempts; Retry (the fault cleared) makes it complete. The portal runs its queue worker, as in production.

const SIZES = [
  { width: 1366, height: 768 },
  { width: 390, height: 844 },
] as const;

describe('background work of an app profile', () => {
  let portal: TestPortal;
  let browser: Browser;
  let admin: { context: BrowserContext; page: Page };
  let api: ApiClient;
  let groupId: string;

  const sandbox = (path: string, body: unknown) =>
    fetch(`${portal.sandbox!.baseUrl}/_sandbox${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const jobOf = () => portal.services.db.selectFrom('jobs').selectAll().where('key', '=', `group-members:${groupId}`).executeTakeFirstOrThrow();
  const until = async (what: string, ok: () => Promise<boolean>, ms = 20_000) => {
    const end = Date.now() + ms;
    while (!(await ok())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  beforeAll(async () => {
    portal = await startTestPortal('sqlite', {}, { backgroundJobs: true });
    browser = await launchBrowser();
    admin = await newPage(browser, portal.url);
    const email = await signUpInBrowser(admin.page, 'Background Partners');
    const { page } = admin;
    await page.goto('/settings/app-profiles');
    await page.getByRole('heading', { name: 'App profiles' }).waitFor();
    await page.getByRole('button', { name: 'Connect a Microsoft 365 tenant' }).click();
    const create = page.getByRole('dialog', { name: 'Create app profile' });
    await create.getByLabel('Profile name').fill('Contoso');
    await create.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('dialog', { name: 'Go to Microsoft 365 sign-in' }).getByRole('button', { name: 'OK' }).click();
    await signInAtMicrosoft(page, CONTOSO.admin);
    await page.getByRole('button', { name: 'Accept' }).click();
    await page.getByRole('row').filter({ hasText: 'Contoso' }).waitFor();

    api = new ApiClient(portal.url);
    expect((await api.post('/api/session', { email, password: PORTAL_PASSWORD })).status).toBe(200);
    const profileId = ((await api.get('/api/app-profiles')).body.items as { id: string }[])[0]!.id;
    const added = await api.post('/api/users', { signInType: 'microsoft365', emails: ['sales@contoso.com'], appProfileId: profileId, role: 'member' });
    groupId = (added.body.added as { id: string; kind: string }[]).find((u) => u.kind === 'group')!.id;
    await until('the first download', async () => (await jobOf()).state === 'done');
  }, 90_000);
  afterAll(async () => {
    await admin?.context.close();
    await browser?.close();
    await portal?.close();
  });

  it('shows a download failing on a Graph fault as "Waiting to retry", then "Failed" with its reason; Retry completes it', async () => {
    const { page } = admin;
    // Every Graph request of the tenant fails with 500 until the fault is cleared; "Download again" starts a download.
    expect((await sandbox('/faults', { tenantId: CONTOSO.id, status: 500, requests: 1000 })).status).toBeLessThan(300);
    expect((await api.post(`/api/users/${groupId}/download-members`, {})).status).toBe(200);
    await until('the failed first attempt', async () => Boolean((await jobOf()).last_error));

    await page.goto('/settings/app-profiles');
    const section = page.getByRole('region', { name: /Background work/ });
    const download = section.getByRole('listitem').filter({ hasText: 'sales@contoso.com' });
    await download.getByText('Waiting to retry').waitFor();
    await download.getByText(/Next attempt at .*The membership download stopped after/).waitFor();
    await section.getByRole('listitem').filter({ hasText: 'Health check' }).getByText(/Succeeded|Failed/).waitFor();
    await section.getByRole('listitem').filter({ hasText: 'Directory sync' }).waitFor();
    await page.waitForTimeout(400);
    expect(await seriousViolations(page), 'waiting to retry').toEqual([]);
    for (const size of SIZES) {
      await page.setViewportSize(size);
      await download.getByText('Waiting to retry').waitFor();
      expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth), `overflow at ${size.width}`).toBeLessThanOrEqual(0);
      await screenshot(page, `background-work-waiting-${size.width}`);
    }
    await page.setViewportSize(SIZES[0]);

    // Out of attempts: the next attempt is the last one, and it fails for good.
    await portal.services.db.updateTable('jobs').set({ max_attempts: 2, run_after: new Date().toISOString() }).where('key', '=', `group-members:${groupId}`).execute();
    await until('the failed download', async () => (await jobOf()).state === 'failed');
    await download.getByText('Failed', { exact: true }).waitFor({ timeout: 20_000 });
    await download.getByText(/The membership download stopped after/).waitFor();
    expect(await seriousViolations(page), 'failed').toEqual([]);
    for (const size of SIZES) {
      await page.setViewportSize(size);
      await screenshot(page, `background-work-failed-${size.width}`);
    }
    await page.setViewportSize(SIZES[0]);

    expect((await sandbox('/faults', { tenantId: CONTOSO.id, status: 500, requests: 0 })).status).toBeLessThan(300);
    await download.getByRole('button', { name: 'Retry the member download of sales@contoso.com' }).click();
    await download.getByText('Done', { exact: true }).waitFor({ timeout: 20_000 });
    await download.getByText(/^\d[\d,]* members? downloaded at /).waitFor();
    expect(await download.getByRole('button', { name: /Retry/ }).count()).toBe(0);
    expect((await jobOf()).state).toBe('done');
    await screenshot(page, 'background-work-done-1366');
  });

  it('shows a directory sync stopped by a Graph fault as "Failed"; Sync now runs it at once and it completes', async () => {
    const { page } = admin;
    expect((await sandbox('/faults', { tenantId: CONTOSO.id, status: 500, requests: 1000 })).status).toBeLessThan(300);
    const [round] = await portal.services.directorySync.syncAll();
    expect(round.error).toBeTruthy();
    expect((await sandbox('/faults', { tenantId: CONTOSO.id, status: 500, requests: 0 })).status).toBeLessThan(300);

    await page.goto('/settings/app-profiles');
    const sync = page.getByRole('region', { name: /Background work/ }).getByRole('listitem').filter({ hasText: 'Directory sync' });
    await sync.getByText('Failed', { exact: true }).waitFor();
    await sync.getByText(/stopped before it completed/).waitFor();
    expect(await seriousViolations(page), 'sync failed').toEqual([]);
    await sync.getByRole('button', { name: 'Sync “Contoso” now' }).click();
    await sync.getByText('Completed', { exact: true }).waitFor({ timeout: 20_000 });
    await screenshot(page, 'background-work-sync-now-1366');
    const audit = await api.get('/api/audit?action=app_profile.sync');
    expect(audit.body.items[0]).toMatchObject({ targetName: 'Contoso', outcome: 'success' });
  });
});
