import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousViolations } from '../support/axe';
import { launchBrowser, newPage, screenshot, signInAtMicrosoft, signUpInBrowser } from '../support/browser';
import { CONTOSO } from '../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../support/portal';

async function openAppProfiles(page: Page): Promise<void> {
  await page.getByRole('banner').getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('link', { name: /Partner app profile/ }).click();
  await page.getByRole('heading', { name: 'App profiles' }).waitFor();
}

async function createProfile(page: Page, name: string, email: string): Promise<void> {
  await page.getByRole('button', { name: 'Create' }).click();
  const create = page.getByRole('dialog', { name: 'Create app profile' });
  await create.getByLabel('Profile name').fill(name);
  await create.getByRole('button', { name: 'Continue' }).click();
  const confirm = page.getByRole('dialog', { name: 'Go to Microsoft 365 sign-in' });
  await confirm.getByRole('button', { name: 'OK' }).click();
  await signInAtMicrosoft(page, email);
  await page.getByRole('heading', { name: 'Permissions requested' }).waitFor();
  await page.getByRole('button', { name: 'Accept' }).click();
  await page.getByRole('heading', { name: 'App profiles' }).waitFor();
}

const row = (page: Page, name: string) => page.getByRole('row').filter({ hasText: name });

describe('notifications in the browser', () => {
  let portal: TestPortal;
  let browser: Browser;
  const control = (path: string, body: unknown = {}) =>
    fetch(`${portal.sandbox!.baseUrl}/_sandbox${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    portal = await startTestPortal('sqlite', {}, { queueWorker: true });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await portal?.close();
  });

  it('shows an expired profile in the bell with the cause and the fix, links to it and marks it read', async () => {
    const { context, page } = await newPage(browser, portal.url);
    await signUpInBrowser(page);
    await page.getByRole('button', { name: 'Notifications, none unread' }).waitFor();
    await openAppProfiles(page);
    await createProfile(page, 'Contoso alerts', CONTOSO.admin);

    // Microsoft revokes the Global Administrator's sessions; Check now finds the authorization expired.
    expect((await control(`/tenants/${CONTOSO.id}/users/${CONTOSO.admin}/revoke-sessions`)).status).toBeLessThan(300);
    await page.getByRole('checkbox', { name: 'Select Contoso alerts' }).check();
    await page.getByRole('toolbar').getByRole('button', { name: 'Check now' }).click();
    await row(page, 'Contoso alerts').getByText('App authorization expired').waitFor();

    const bell = page.getByRole('button', { name: 'Notifications, 1 unread' });
    await bell.waitFor();
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, 'notifications-bell-phone');
    await page.setViewportSize({ width: 1366, height: 900 });
    await screenshot(page, 'notifications-bell-desktop');
    await bell.click();
    const panel = page.getByRole('dialog', { name: 'Notifications' });
    const item = panel.getByRole('listitem').filter({ hasText: 'App authorization expired: Contoso alerts' });
    await item.waitFor();
    await item.getByText(/revoked/i).first().waitFor();
    await item.getByText(/How to fix: Authorize the app profile again/).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    for (const [width, name] of [[1366, 'notifications-desktop'], [390, 'notifications-phone']] as const) {
      await page.setViewportSize({ width, height: width > 500 ? 900 : 844 });
      await screenshot(page, name);
      expect(await seriousViolations(page)).toEqual([]);
    }
    await page.setViewportSize({ width: 1366, height: 900 });

    await item.getByRole('button', { name: 'Mark “App authorization expired: Contoso alerts” as read' }).click();
    await item.getByText('Unread', { exact: true }).waitFor({ state: 'detached' });
    await panel.getByRole('button', { name: 'Close' }).click();
    await page.getByRole('button', { name: 'Notifications, none unread' }).waitFor();
    // The link goes to the affected profile's page and closes the panel.
    await page.goto('/');
    await page.getByRole('button', { name: 'Notifications, none unread' }).click();
    await page.getByRole('dialog', { name: 'Notifications' }).getByRole('link', { name: 'Open app profiles' }).click();
    await page.getByRole('heading', { name: 'App profiles' }).waitFor();
    await row(page, 'Contoso alerts').waitFor();
    await panel.waitFor({ state: 'detached' });
    await screenshot(page, 'notifications-bell-read');
    await context.close();
  });

  it('turns the portal channel and alert emails off in Settings', async () => {
    const { context, page } = await newPage(browser, portal.url);
    await signUpInBrowser(page, 'Quiet Partners');
    await page.getByRole('banner').getByRole('link', { name: 'Settings' }).click();
    const portalSwitch = page.getByRole('switch', { name: 'Show alerts in the portal (the bell)' });
    await portalSwitch.waitFor();
    expect(await portalSwitch.isChecked()).toBe(true);
    await page.getByRole('switch', { name: 'Send alert emails to me' }).click();
    await expect.poll(() => page.getByRole('switch', { name: 'Send alert emails to me' }).isChecked()).toBe(false);
    await page.reload();
    await page.getByRole('switch', { name: 'Send alert emails to me' }).waitFor();
    await expect.poll(() => page.getByRole('switch', { name: 'Send alert emails to me' }).isChecked()).toBe(false);
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();
  });
});
