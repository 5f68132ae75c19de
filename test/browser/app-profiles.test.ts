import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, newPage, screenshot, signInAtMicrosoft, signUpInBrowser } from '../support/browser';
import { insertLocalUser } from '../support/db-fixtures';
import { CONTOSO, FABRIKAM_GOV, NORTHWIND } from '../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../support/portal';

const PERMISSION_TEXTS = ['Read all groups', 'Read organization information', "Read all users' full profiles", 'Read directory data', 'Read group memberships', 'Read domains', 'Sign in and read user profile'];

async function openAppProfiles(page: Page): Promise<void> {
  await page.getByRole('banner').getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('link', { name: /Partner app profile/ }).click();
  await page.getByRole('heading', { name: 'App profiles' }).waitFor();
}

/** Seed: Create → name → Continue → confirm (and version) → OK → Microsoft sign-in → review permissions → Accept. */
type Via = 'sign-in' | 'picker' | 'another';

/** At Microsoft: the sign-in page (no Microsoft session yet), or the account picker (pick one, or use another). */
async function chooseAccount(page: Page, email: string, via: Via): Promise<void> {
  if (via === 'picker') {
    await page.getByRole('heading', { name: 'Pick an account' }).waitFor();
    await page.getByRole('button', { name: new RegExp(email.replace(/\./g, '\\.')) }).click();
    return;
  }
  if (via === 'another') {
    await page.getByRole('heading', { name: 'Pick an account' }).waitFor();
    await page.getByRole('button', { name: 'Use another account' }).click();
  }
  await signInAtMicrosoft(page, email);
}

async function createProfile(page: Page, name: string, account: { email: string; via: Via }, version?: string): Promise<void> {
  await page.getByRole('button', { name: 'Create' }).click();
  const create = page.getByRole('dialog', { name: 'Create app profile' });
  await create.getByLabel('Profile name').fill(name);
  await create.getByRole('button', { name: 'Continue' }).click();
  const confirm = page.getByRole('dialog', { name: 'Go to Microsoft 365 sign-in' });
  await confirm.waitFor();
  if (version) await confirm.getByRole('radio', { name: version }).check();
  await confirm.getByRole('button', { name: 'OK' }).click();
  await chooseAccount(page, account.email, account.via);
  await page.getByRole('heading', { name: 'Permissions requested' }).waitFor();
  for (const text of PERMISSION_TEXTS) await page.getByText(text, { exact: true }).waitFor();
  await page.getByRole('button', { name: 'Accept' }).click();
  await page.getByRole('heading', { name: 'App profiles' }).waitFor();
}

const row = (page: Page, name: string) => page.getByRole('row').filter({ hasText: name });
const select = (page: Page, name: string) => page.getByRole('checkbox', { name: `Select ${name}` }).check();

describe('partner app profiles in the browser', () => {
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

  it('creates a profile, edits its name, and re-authorizes it both ways', async () => {
    const { context, page } = await newPage(browser, portal.url);
    await signUpInBrowser(page);
    await openAppProfiles(page);
    await page.getByText(/Tenantgate - User Management/).first().waitFor();

    await createProfile(page, 'Contoso M365', { email: CONTOSO.admin, via: 'sign-in' });
    // The message names the profile and sits under the page title, not above it.
    const created = page.getByText('App profile created. “Contoso M365” is active.');
    await created.waitFor();
    const titleBox = await page.getByRole('heading', { name: 'App profiles' }).boundingBox();
    expect((await created.boundingBox())!.y).toBeGreaterThan(titleBox!.y);
    await row(page, 'Contoso M365').getByText('Active').waitFor();
    await row(page, 'Contoso M365').getByText(CONTOSO.domain, { exact: true }).waitFor();
    await row(page, 'Contoso M365').getByText(CONTOSO.admin, { exact: true }).waitFor();

    // Edit profile name
    await select(page, 'Contoso M365');
    await page.getByRole('button', { name: 'Edit profile name' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit profile name' });
    expect(await edit.getByLabel('Profile name').inputValue()).toBe('Contoso M365');
    await edit.getByLabel('Profile name').fill('Contoso Production');
    await edit.getByRole('button', { name: 'OK' }).click();
    await row(page, 'Contoso Production').waitFor();
    await page.getByText('The app profile is now named “Contoso Production”.').waitFor();
    // The round trip's message is gone with the next action's.
    expect(await page.getByText('App profile created.').count()).toBe(0);

    // Re-authorize: use the current account (no password while the Microsoft session lasts)
    await select(page, 'Contoso Production');
    await page.getByRole('button', { name: 'Re-authorize app' }).click();
    const reauth = page.getByRole('dialog', { name: 'Re-authorize app' });
    // Says which account: the one that authorized the profile.
    await reauth.getByRole('radio', { name: `Use the current account (${CONTOSO.admin})`, exact: true }).check();
    await reauth.getByRole('button', { name: 'OK' }).click();
    await page.getByRole('heading', { name: 'Permissions requested' }).waitFor();
    await page.getByRole('button', { name: 'Accept' }).click();
    await page.waitForURL(/result=|app-profiles/).catch(() => undefined);
    await screenshot(page, 'reauth-current');
    await page.getByText('App authorized again.').waitFor();

    // Re-authorize: sign out and use another account
    await select(page, 'Contoso Production');
    await page.getByRole('button', { name: 'Re-authorize app' }).click();
    await page.getByRole('dialog', { name: 'Re-authorize app' }).getByRole('radio', { name: 'Sign out and use another account' }).check();
    await page.getByRole('dialog', { name: 'Re-authorize app' }).getByRole('button', { name: 'OK' }).click();
    await chooseAccount(page, CONTOSO.admin2, 'sign-in');
    await page.getByRole('heading', { name: 'Permissions requested' }).waitFor();
    await page.getByRole('button', { name: 'Accept' }).click();
    await page.getByText('App authorized again.').waitFor();
    await row(page, 'Contoso Production').getByText(CONTOSO.admin2, { exact: true }).waitFor();
    // The portal session survived the Microsoft sign-out.
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await context.close();
  });

  it('shows "App authorization expired" after the sessions are revoked, with the fix one click away', async () => {
    const { context, page } = await newPage(browser, portal.url);
    await signUpInBrowser(page);
    await openAppProfiles(page);
    await createProfile(page, 'Revoked tenant', { email: NORTHWIND.admin, via: 'sign-in' });
    expect((await control(`/tenants/${NORTHWIND.id}/users/${NORTHWIND.admin}/revoke-sessions`)).status).toBeLessThan(300);
    await select(page, 'Revoked tenant');
    await page.getByRole('button', { name: 'Check now' }).click();
    await row(page, 'Revoked tenant').getByText('App authorization expired').waitFor();
    await row(page, 'Revoked tenant').getByText(/revoked/i).first().waitFor();
    await row(page, 'Revoked tenant').getByRole('button', { name: 'Re-authorize Revoked tenant' }).click();
    const reauth = page.getByRole('dialog', { name: 'Re-authorize app' });
    await reauth.getByRole('button', { name: 'OK' }).click();
    await page.waitForURL(/_sandbox|login/).catch(() => undefined);
    await screenshot(page, 'revoked-reauthorize');
    await chooseAccount(page, NORTHWIND.admin, 'sign-in');
    await page.getByRole('button', { name: 'Accept' }).click();
    await page.getByText('App authorized again.').waitFor();
    await row(page, 'Revoked tenant').getByText('Active').waitFor();
    await context.close();
  });

  it('deletes one profile, then several with one blocked because it is in use', async () => {
    const { context, page } = await newPage(browser, portal.url);
    await signUpInBrowser(page);
    await openAppProfiles(page);
    await createProfile(page, 'First', { email: CONTOSO.admin, via: 'sign-in' });
    await createProfile(page, 'Second', { email: NORTHWIND.admin, via: 'another' });

    await select(page, 'First');
    await page.getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete app profiles' });
    await dialog.getByText('First').waitFor();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('Deleted: First.').waitFor();
    expect(await row(page, 'First').count()).toBe(0);

    // "Second" is used by a Microsoft 365 user of User management.
    const second = await portal.services.db.selectFrom('app_profiles').select(['id', 'partner_id']).where('name', '=', 'Second').orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    const userId = await insertLocalUser(portal.services.db, second.partner_id, { email: `nora${Date.now()}@northwind.com`, password: 'silver-forest-river-9', role: 'member' });
    await portal.services.db.updateTable('users').set({ sign_in_type: 'microsoft365', app_profile_id: second.id }).where('id', '=', userId).execute();
    await createProfile(page, 'Third', { email: CONTOSO.admin, via: 'picker' });
    await select(page, 'Second');
    await select(page, 'Third');
    await page.getByRole('button', { name: 'Delete' }).click();
    // The dialog knows "Second" is in use: it says so instead of promising its deletion, and deletes only "Third".
    const both = page.getByRole('dialog', { name: 'Delete app profiles' });
    await both.getByText('“Second” is used by 1 Microsoft 365 user in User management.').waitFor();
    await both.getByRole('link', { name: 'See who uses “Second”' }).waitFor();
    await both.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByText('Deleted: Third.').waitFor();
    await row(page, 'Second').waitFor();
    await context.close();
  });

  it('runs the 90-day story: unused 91 days (sandbox clock) → Check now → expired (AADSTS700082) → Re-authorize with the current account → Active', async () => {
    const { context, page } = await newPage(browser, portal.url);
    await signUpInBrowser(page);
    await openAppProfiles(page);
    await createProfile(page, 'Idle tenant', { email: CONTOSO.admin, via: 'sign-in' });
    await row(page, 'Idle tenant').getByText(/Lapses in (89|90) days/).waitFor();
    expect((await control('/clock', { advanceSeconds: 91 * 86400 })).status).toBeLessThan(300);
    await select(page, 'Idle tenant');
    await page.getByRole('button', { name: 'Check now' }).click();
    await row(page, 'Idle tenant').getByText('App authorization expired').waitFor();
    await row(page, 'Idle tenant').getByText(/not used for 90 days\. \(AADSTS700082\)/).waitFor();
    // The page says what still works and what stopped while the profile is expired.
    const note = page.getByRole('note', { name: 'While an app profile is expired' });
    await note.getByText(/still sign in/).waitFor();
    await note.getByText(/user management .*Browse.*directory sync/i).waitFor();

    // Re-authorize with the current account: the sandbox's tokens carry true times after the clock moved.
    await select(page, 'Idle tenant');
    await page.getByRole('button', { name: 'Re-authorize app' }).click();
    const reauth = page.getByRole('dialog', { name: 'Re-authorize app' });
    await reauth.getByRole('radio', { name: 'Use the current account' }).check();
    await reauth.getByRole('button', { name: 'OK' }).click();
    // The Microsoft session may have ended on the sandbox clock: sign in again when asked.
    const signInPage = page.getByRole('heading', { name: 'Sign in', exact: true });
    await page.getByRole('heading', { name: 'Permissions requested' }).or(signInPage).waitFor();
    if (await signInPage.isVisible()) await signInAtMicrosoft(page, CONTOSO.admin);
    await page.getByRole('heading', { name: 'Permissions requested' }).waitFor();
    await page.getByRole('button', { name: 'Accept' }).click();
    await page.getByText('App authorized again. “Idle tenant” is active.').waitFor();
    await row(page, 'Idle tenant').getByText('Active').waitFor();
    expect(await page.getByText(/MICROSOFT_ERROR/).count()).toBe(0);
    expect(await page.getByRole('note', { name: 'While an app profile is expired' }).count()).toBe(0);
    await context.close();
  });
});

describe('partner app profiles in the US Gov Virginia data center, in the browser', () => {
  let portal: TestPortal;
  let browser: Browser;
  beforeAll(async () => {
    portal = await startTestPortal('sqlite', { TENANTGATE_DATA_CENTER: 'us-gov-virginia' }, { queueWorker: true });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await portal?.close();
  });

  it('asks for the version first and creates a U.S. Government profile', async () => {
    const { context, page } = await newPage(browser, portal.url);
    await signUpInBrowser(page);
    await openAppProfiles(page);
    await createProfile(page, 'Fabrikam Gov', { email: FABRIKAM_GOV.admin, via: 'sign-in' }, 'Microsoft 365 U.S. Government');
    expect(page.url()).toContain('/settings/app-profiles');
    await page.getByText('App profile created.').waitFor();
    await row(page, 'Fabrikam Gov').getByText('U.S. Government').waitFor();
    await row(page, 'Fabrikam Gov').getByText(FABRIKAM_GOV.domain, { exact: true }).waitFor();
    await context.close();
  });
});
