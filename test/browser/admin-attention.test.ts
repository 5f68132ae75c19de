import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousViolations } from '../support/axe';
import { readFile } from 'node:fs/promises';
import { launchBrowser, newPage, PORTAL_PASSWORD, signInAtMicrosoft, signUpInBrowser, uniqueEmail } from '../support/browser';
import { insertLocalUser } from '../support/db-fixtures';
import { CONTOSO, NORTHWIND } from '../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../support/portal';

// What an administrator must notice without looking for it: expired app profiles outside their own page,
// deleting a profile in use, empty and error states, a Member's home page.

async function openAppProfiles(page: Page): Promise<void> {
  await page.goto('/settings/app-profiles');
  await page.getByRole('heading', { name: 'App profiles' }).waitFor();
}

/** Create → name → Continue → OK → Microsoft sign-in (or the account picker) → Accept. */
async function createProfile(page: Page, name: string, email: string, picker = false): Promise<void> {
  await page.getByRole('toolbar').getByRole('button', { name: 'Create' }).first().click();
  const create = page.getByRole('dialog', { name: 'Create app profile' });
  await create.getByLabel('Profile name').fill(name);
  await create.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('dialog', { name: 'Go to Microsoft 365 sign-in' }).getByRole('button', { name: 'OK' }).click();
  if (picker) {
    await page.getByRole('heading', { name: 'Pick an account' }).waitFor();
    await page.getByRole('button', { name: 'Use another account' }).click();
  }
  await signInAtMicrosoft(page, email);
  await page.getByRole('button', { name: 'Accept' }).click();
  await page.getByRole('heading', { name: 'App profiles' }).waitFor();
  await page.getByRole('row').filter({ hasText: name }).waitFor();
}

async function expectNoSeriousViolations(page: Page, what: string): Promise<void> {
  // Let a dialog's opening animation end: axe measures contrast on the colors of that moment.
  await page.waitForTimeout(400);
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
    await portal.services.db.updateTable('users').set({ sign_in_type: 'microsoft365', app_profile_id: profile.id, display_name: 'Adele Vance' }).where('id', '=', id).execute();
  }

  beforeAll(async () => {
    portal = await startTestPortal('sqlite', {}, { queueWorker: true });
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
  it('deleting a profile in use says so in the danger style and links to the users that block it', async () => {
    const { context, page } = await newPage(browser, portal.url);
    await signUpInBrowser(page);
    await openAppProfiles(page);
    await createProfile(page, 'Busy tenant', CONTOSO.admin);
    await createProfile(page, 'Spare tenant', NORTHWIND.admin, true);
    const blocker = `blocker${Date.now()}@contoso.com`;
    await bindUser('Busy tenant', blocker);
    await page.reload();
    await page.getByRole('row').filter({ hasText: 'Busy tenant' }).waitFor();

    await page.getByRole('checkbox', { name: 'Select Busy tenant' }).check();
    await page.getByRole('checkbox', { name: 'Select Spare tenant' }).check();
    await page.getByRole('toolbar').getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete app profiles' });
    await dialog.getByText('This app profile is in use and cannot be deleted').waitFor();
    await dialog.getByText('“Busy tenant” is used by 1 Microsoft 365 user in User management.').waitFor();
    // Only the unused profile is promised a deletion, on a red button.
    expect(await dialog.getByRole('listitem').filter({ hasText: 'Busy tenant' }).count()).toBe(1);
    await dialog.getByRole('listitem').filter({ hasText: /^Spare tenant$/ }).waitFor();
    const deleteButton = dialog.getByRole('button', { name: 'Delete', exact: true });
    const background = await deleteButton.evaluate((element) => getComputedStyle(element).backgroundColor);
    const [red, , blue] = background.match(/\d+/g)!.map(Number);
    expect(red, `danger button background ${background}`).toBeGreaterThan(blue!);
    await expectNoSeriousViolations(page, 'delete dialog with a profile in use');

    // The link lists exactly the users that block the deletion.
    await dialog.getByRole('link', { name: 'See who uses “Busy tenant”' }).click();
    await page.getByRole('heading', { name: 'User management' }).waitFor();
    await page.getByRole('row').filter({ hasText: blocker }).waitFor();
    expect(await page.getByRole('row').filter({ hasText: '@acme-partner.test' }).count()).toBe(0);
    expect(await page.getByLabel('App profile filter').evaluate((select: HTMLSelectElement) => select.selectedOptions[0]?.text)).toBe('Busy tenant');
    // Search finds people by name as well as by email.
    await page.getByLabel('App profile filter').selectOption('');
    await page.getByRole('searchbox', { name: 'Search by name or email' }).fill('Vance');
    await page.getByRole('row').filter({ hasText: blocker }).waitFor();
    await page.getByRole('row').filter({ hasText: '@acme-partner.test' }).waitFor({ state: 'detached' });
    await context.close();
  });

  it('the empty app profile page has a main button, and a list that fails to load offers Retry', async () => {
    const { context, page } = await newPage(browser, portal.url);
    await signUpInBrowser(page);
    // The list fails (with the client's own retries) until the service is back.
    let serviceDown = true;
    const busy = JSON.stringify({ error: { code: 'UNAVAILABLE', message: 'The service is busy. Try again in a moment.' } });
    await page.route(/\/api\/app-profiles(\?.*)?$/, (route) =>
      serviceDown ? route.fulfill({ status: 503, contentType: 'application/json', body: busy }) : route.continue(),
    );
    await page.goto('/settings/app-profiles');
    await page.getByText('The app profiles could not be loaded').waitFor({ timeout: 15_000 });
    await expectNoSeriousViolations(page, 'list error with Retry');
    serviceDown = false;
    await page.getByRole('button', { name: 'Retry' }).click();
    const main = page.getByRole('button', { name: 'Connect a Microsoft 365 tenant' });
    await main.waitFor();
    expect(await page.getByText('The app profiles could not be loaded').count()).toBe(0);
    await expectNoSeriousViolations(page, 'empty app profile page');
    await main.click();
    await page.getByRole('dialog', { name: 'Create app profile' }).getByLabel('Profile name').waitFor();
    await context.close();
  });

  it("a Member's home page says what they can do there", async () => {
    const { context, page } = await newPage(browser, portal.url);
    await signUpInBrowser(page);
    const partner = await portal.services.db.selectFrom('partners').select('id').orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    const email = uniqueEmail('member');
    await insertLocalUser(portal.services.db, partner.id, { email, password: 'silver-forest-river-9', role: 'member' });
    await context.clearCookies();
    await page.goto('/signin');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('silver-forest-river-9');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: /^Welcome/ }).waitFor();
    await page.getByText(/with the Member role/).waitFor();
    await page.getByText('What you can do:').waitFor();
    await page.getByText(/ask an Administrator of Acme Partners/).waitFor();
    await expectNoSeriousViolations(page, 'member home');
    await context.close();
  });
  it('the audit log reads as words, explains a failure, filters by date, actor and action, and exports CSV', async () => {
    const context = await browser.newContext({ baseURL: portal.url, viewport: { width: 1366, height: 768 }, timezoneId: 'UTC', acceptDownloads: true, reducedMotion: 'reduce' });
    context.setDefaultTimeout(30_000);
    const page = await context.newPage();
    const owner = await signUpInBrowser(page);
    // A failed sign-in (wrong password), then the right one.
    await context.clearCookies();
    await page.goto('/signin');
    await page.getByLabel('Email').fill(owner);
    await page.getByLabel('Password').fill('not-the-password-1');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').or(page.getByText(/password/i).nth(1)).first().waitFor();
    await page.getByLabel('Password').fill(PORTAL_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: /^Welcome/ }).waitFor();

    await page.goto('/settings/audit');
    const table = page.getByRole('table', { name: 'Audit log' });
    await table.getByRole('cell', { name: 'Partner account created', exact: true }).waitFor();
    // Readable names only, times to the second with the time zone.
    expect(await table.getByText(/^(session|partner)\.[a-z_]+$/).count()).toBe(0);
    const time = await table.getByRole('row').nth(1).getByRole('cell').first().innerText();
    expect(time).toMatch(/\d{1,2}:\d{2}:\d{2}.*UTC/);
    await expectNoSeriousViolations(page, 'audit log');

    // Filters: action and outcome find the failed sign-in; its details say why and what to do.
    await page.getByLabel('Action').selectOption({ label: 'Sign-in' });
    await page.getByLabel('Outcome').selectOption('failure');
    await table.getByRole('cell', { name: 'Failure' }).first().waitFor();
    await page.waitForTimeout(300);
    expect(await table.getByRole('cell', { name: 'Success', exact: true }).count()).toBe(0);
    await table.getByRole('button', { name: /^Details of Sign-in/ }).first().click();
    const details = page.getByRole('dialog', { name: 'Sign-in' });
    await details.getByText('The password was wrong.').waitFor();
    await details.getByText(/Sign in with the right password/).waitFor();
    await details.getByText(/\d{1,2}:\d{2}:\d{2}.*UTC/).waitFor();
    await expectNoSeriousViolations(page, 'audit entry details');
    await details.getByRole('button', { name: 'Close' }).click();

    // Actor: part of the address, any case; a date range after today finds nothing.
    await page.getByLabel('Outcome').selectOption('');
    await page.getByLabel('Actor').fill(owner.slice(0, 8).toUpperCase());
    await table.getByRole('cell', { name: owner, exact: true }).first().waitFor();
    await page.getByLabel('Actor').fill('nobody-at-all');
    await page.getByText('No audit entries match.').waitFor();
    await page.getByLabel('Actor').fill('');
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    await page.getByLabel('From').fill(tomorrow);
    await page.getByText('No audit entries match.').waitFor();
    await page.getByLabel('From').fill('');
    await table.getByRole('cell', { name: 'Sign-in', exact: true }).first().waitFor();

    // CSV of what the filters show (the sign-ins), in words and codes.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^tenantgate-audit-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = await readFile((await download.path())!, 'utf8');
    const lines = csv.trim().split(/\r\n/);
    expect(lines[0]).toBe('Time (UTC),Actor,Action,Action code,Target type,Target,Outcome,Cause,Fix,Client address,Details');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines.slice(1).every((line) => line.includes(',Sign-in,session.signin,'))).toBe(true);
    expect(csv).toContain('The password was wrong.');
    await context.close();
  });
  it('an Invited user gets a new link from User management, and the activation page checks its link when it opens', async () => {
    const { context, page } = await newPage(browser, portal.url);
    await signUpInBrowser(page);
    await page.goto('/settings/users');
    await page.getByRole('heading', { name: 'User management' }).waitFor();
    const invitee = uniqueEmail('invitee');
    await page.getByRole('toolbar').getByRole('button', { name: 'Add new user' }).click();
    const drawer = page.getByRole('dialog', { name: 'Add new user' });
    await drawer.getByRole('radio', { name: 'Local user' }).check();
    await drawer.getByRole('textbox', { name: 'Email addresses' }).fill(invitee);
    await drawer.getByRole('radio', { name: 'Member' }).check();
    await drawer.getByRole('button', { name: 'Add', exact: true }).click();
    const firstLink = await drawer.getByRole('textbox', { name: `Activation link for ${invitee}` }).inputValue();
    await drawer.getByRole('button', { name: 'Close' }).click();
    const row = page.getByRole('row').filter({ hasText: invitee });
    await row.getByText('Invited').waitFor();

    // "Resend invitation" is for an Invited user only.
    const resend = page.getByRole('toolbar').getByRole('button', { name: 'Resend invitation' });
    expect(await resend.isDisabled()).toBe(true);
    await page.getByRole('checkbox', { name: `Select ${invitee}` }).check();
    await resend.click();
    const newLinkBox = page.getByRole('textbox', { name: `Activation link for ${invitee}` });
    await newLinkBox.waitFor();
    const newLink = await newLinkBox.inputValue();
    expect(newLink).toMatch(/\/activate\?token=/);
    expect(newLink).not.toBe(firstLink);
    await page.getByText(/The old link no longer works/).waitFor();
    await expectNoSeriousViolations(page, 'users with a new invitation link');

    // The invitee: the old link is refused as the page opens, before any password is typed; the new one works.
    const other = await newPage(browser, portal.url);
    await other.page.goto(firstLink);
    await other.page.getByText(/This activation link is not valid/).waitFor();
    expect(await other.page.getByLabel('New password').count()).toBe(0);
    await expectNoSeriousViolations(other.page, 'activation with a used link');
    await other.page.goto(newLink);
    await other.page.getByText(`Choose a password for ${invitee}.`).waitFor();
    await other.page.getByLabel('New password').fill(PORTAL_PASSWORD);
    await other.page.getByLabel('Confirm password').fill(PORTAL_PASSWORD);
    await other.page.getByRole('button', { name: 'Activate' }).click();
    await other.page.getByText('Your account is activated.', { exact: false }).waitFor();
    await other.context.close();
    await context.close();
  });
});
