import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousViolations } from '../support/axe';
import { launchBrowser, newPage, signInAtMicrosoft, signUpInBrowser } from '../support/browser';
import { insertLocalUser } from '../support/db-fixtures';
import { CONTOSO, NORTHWIND } from '../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../support/portal';

// What an administrator must notice without looking for it: expired app profiles outside their own page,
// deleting a profile in use, empty and error states, a Member's home page.

async function openAppProfiles(page: Page): Promise<void> {
  await page.goto('/settings/app-profiles');
  await page.getByRole('heading', { name: 'Partner app profile' }).waitFor();
}

/** Create → name → Continue → OK → Microsoft sign-in (or the account picker) → Accept. */
async function createProfile(page: Page, name: string, email: string, picker = false): Promise<void> {
  await page.getByRole('toolbar').getByRole('button', { name: 'Create' }).first().click();
  const create = page.getByRole('dialog', { name: 'Create' });
  await create.getByLabel('Profile name').fill(name);
  await create.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('dialog', { name: 'Go to Microsoft 365 sign-in' }).getByRole('button', { name: 'OK' }).click();
  if (picker) {
    await page.getByRole('heading', { name: 'Pick an account' }).waitFor();
    await page.getByRole('button', { name: 'Use another account' }).click();
  }
  await signInAtMicrosoft(page, email);
  await page.getByRole('button', { name: 'Accept' }).click();
  await page.getByRole('heading', { name: 'Partner app profile' }).waitFor();
  await page.getByRole('row').filter({ hasText: name }).waitFor();
}

async function expectNoSeriousViolations(page: Page, what: string): Promise<void> {
  expect(await seriousViolations(page), what).toEqual([]);
}

describe('what an administrator must notice', () => {
  let portal: TestPortal;
  let browser: Browser;
  const control = (path: string, body: unknown = {}) =>
    fetch(`${portal.sandbox!.baseUrl}/_sandbox${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  /** A Microsoft 365 user of User management bound to the profile (as if added through it). */
  async function bindUser(profileName: string, email: string): Promise<void> {
    const profile = await portal.services.db.selectFrom('app_profiles').select(['id', 'partner_id']).where('name', '=', profileName).orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    const id = await insertLocalUser(portal.services.db, profile.partner_id, { email, password: 'silver-forest-river-9', role: 'member' });
    await portal.services.db.updateTable('users').set({ sign_in_type: 'microsoft365', app_profile_id: profile.id }).where('id', '=', id).execute();
  }

  beforeAll(async () => {
    portal = await startTestPortal('sqlite');
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await portal?.close();
  });

  it('an expired app profile shows on Home, Settings and User management, with the fix one click away', async () => {
    const { context, page } = await newPage(browser, portal.url);
    await signUpInBrowser(page);
    await openAppProfiles(page);
    await createProfile(page, 'Northwind Traders', NORTHWIND.admin);
    const affected = `nora${Date.now()}@northwind.com`;
    await bindUser('Northwind Traders', affected);

    // While it works, nothing alarms anyone.
    await page.goto('/');
    await page.getByRole('heading', { name: /^Welcome/ }).waitFor();
    await page.waitForLoadState('networkidle');
    expect(await page.getByText(/needs re-authorization/).count()).toBe(0);

    // Microsoft revokes the sessions; the next check finds the authorization expired.
    expect((await control(`/tenants/${NORTHWIND.id}/users/${NORTHWIND.admin}/revoke-sessions`)).status).toBeLessThan(300);
    await openAppProfiles(page);
    await page.getByRole('checkbox', { name: 'Select Northwind Traders' }).check();
    await page.getByRole('toolbar').getByRole('button', { name: 'Check now' }).click();
    await page.getByRole('row').filter({ hasText: 'Northwind Traders' }).getByText('App authorization expired').waitFor();

    const banner = '1 app profile needs re-authorization — 1 user affected';
    await page.goto('/');
    await page.getByText(banner).waitFor();
    await expectNoSeriousViolations(page, 'home with the banner');

    await page.goto('/settings');
    await page.getByText(banner).waitFor();
    // The Settings card of app profiles carries a badge of its own.
    const card = page.locator('.fui-Card').filter({ has: page.getByRole('link', { name: 'Partner app profile' }) });
    await card.getByText('1 app profile needs re-authorization').waitFor();
    await expectNoSeriousViolations(page, 'settings with the badge');

    await page.goto('/settings/users');
    await page.getByText(banner).waitFor();
    const row = page.getByRole('row').filter({ hasText: affected });
    await row.getByRole('img', { name: /App profile “Northwind Traders” needs re-authorization/ }).waitFor();
    // The owner (a local user) is not affected and carries no warning.
    expect(await page.getByRole('img', { name: /needs re-authorization/ }).count()).toBe(1);
    await expectNoSeriousViolations(page, 'users with the warning icon');

    // The banner's action opens the Re-authorize dialog of that profile.
    await page.getByRole('link', { name: 'Re-authorize Northwind Traders' }).click();
    const dialog = page.getByRole('dialog', { name: 'Re-authorize app' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'OK' }).click();
    await signInAtMicrosoft(page, NORTHWIND.admin);
    await page.getByRole('button', { name: 'Accept' }).click();
    await page.getByText('App authorized again.').waitFor();
    await page.goto('/');
    await page.getByRole('heading', { name: /^Welcome/ }).waitFor();
    await page.waitForLoadState('networkidle');
    expect(await page.getByText(/needs re-authorization/).count()).toBe(0);
    await context.close();
  });
});

export { CONTOSO };
