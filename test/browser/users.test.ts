import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, newPage, screenshot, signInAtMicrosoft, signUpInBrowser, uniqueEmail } from '../support/browser';
import { CONTOSO } from '../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../support/portal';

const PROFILE = 'Contoso users';
const ALEX = 'alex@contoso.com';
const DIEGO = 'diego@contoso.com';
const SALES = 'sales@contoso.com';
/** Sales EMEA's object id in the sample fixture (src/sandbox-cloud/fixtures/sample.json). */
const SALES_EMEA_ID = 'c1c1c1c1-0002-4000-8000-000000000002';
const MEMBER_PASSWORD = 'amber-meadow-falcon-73';
const REMOVED_FROM_GROUP =
  'You are no longer a member of the Microsoft 365 group that gave you access to Tenantgate. Ask your administrator.';

/** From the home page (so a test starts clean even if the one before it stopped midway): Settings → entry. */
async function openSettings(page: Page, entry: RegExp, heading: string): Promise<void> {
  await page.goto('/');
  await page.getByRole('banner').getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('link', { name: entry }).click();
  await page.getByRole('heading', { name: heading }).waitFor();
}

const openUsers = (page: Page) => openSettings(page, /User management/, 'User management');
const openAppProfiles = (page: Page) => openSettings(page, /Partner app profile/, 'App profiles');

/** Partner app profile → Create → name → Continue → OK → Microsoft sign-in as the Global Administrator → Accept. */
async function createProfile(page: Page, name: string, adminEmail: string): Promise<void> {
  await openAppProfiles(page);
  await page.getByRole('button', { name: 'Create' }).click();
  const create = page.getByRole('dialog', { name: 'Create app profile' });
  await create.getByLabel('Profile name').fill(name);
  await create.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('dialog', { name: 'Go to Microsoft 365 sign-in' }).getByRole('button', { name: 'OK' }).click();
  await signInAtMicrosoft(page, adminEmail);
  await page.getByRole('heading', { name: 'Permissions requested' }).waitFor();
  await page.getByRole('button', { name: 'Accept' }).click();
  await page.getByText('App profile created.').waitFor();
}

/** User management → "Add new user": the drawer (a dialog named after its title). */
async function openAddUser(page: Page) {
  await page.getByRole('button', { name: 'Add new user' }).click();
  const drawer = page.getByRole('dialog', { name: 'Add new user' });
  await drawer.waitFor();
  return drawer;
}

async function chooseMicrosoftProfile(drawer: ReturnType<Page['getByRole']>, page: Page, profile: string): Promise<void> {
  await drawer.getByRole('radio', { name: 'Microsoft 365 User/Group' }).check();
  await drawer.getByRole('combobox', { name: 'App profile' }).click();
  await page.getByRole('option', { name: profile }).click();
}

const userRow = (page: Page, email: string) => page.getByRole('row').filter({ hasText: email });

/** A fresh browser (no portal and no Microsoft session): "Sign in with Microsoft 365" as that person. */
async function signInWithMicrosoft(browser: Browser, portal: TestPortal, email: string): Promise<{ context: BrowserContext; page: Page }> {
  const { context, page } = await newPage(browser, portal.url);
  await page.goto('/signin');
  await page.getByRole('link', { name: 'Sign in with Microsoft 365' }).click();
  await signInAtMicrosoft(page, email);
  return { context, page };
}

async function expectSignedInAs(page: Page, email: string): Promise<void> {
  await page.getByRole('heading', { name: /^Welcome/ }).waitFor();
  await page.getByRole('banner').getByText(email, { exact: true }).waitFor();
  await page.getByRole('banner').getByRole('button', { name: 'Sign out' }).waitFor();
}

describe('user management in the browser', () => {
  let portal: TestPortal;
  let browser: Browser;
  /** The partner administrator's browser, kept across the tests (they build on each other, in order). */
  let admin: { context: BrowserContext; page: Page };
  let ownerEmail: string;
  let localMember: { email: string; password: string };

  beforeAll(async () => {
    portal = await startTestPortal('sqlite', {}, { queueWorker: true });
    browser = await launchBrowser();
    admin = await newPage(browser, portal.url);
    ownerEmail = await signUpInBrowser(admin.page, 'User Management Partners');
  });
  afterAll(async () => {
    await admin?.context.close();
    await browser?.close();
    await portal?.close();
  });

  it('adds a local user, who activates the account with the one-time link and signs in as a Member', async () => {
    const { page } = admin;
    await openUsers(page);
    await userRow(page, ownerEmail).getByText('Portal owner').waitFor();

    const memberEmail = uniqueEmail('member');
    const drawer = await openAddUser(page);
    await drawer.getByRole('radio', { name: 'Local user' }).check();
    await drawer.getByRole('textbox', { name: 'Email addresses' }).fill(memberEmail);
    await drawer.getByRole('radio', { name: 'Member' }).check();
    await drawer.getByRole('button', { name: 'Add', exact: true }).click();
    await drawer.getByText('Added 1 user.').waitFor();
    await drawer.getByText('Activation links').waitFor();
    const link = await drawer.getByRole('textbox', { name: `Activation link for ${memberEmail}` }).inputValue();
    expect(link).toMatch(new RegExp(`^${portal.url}/activate\\?token=.+`));
    await drawer.getByRole('button', { name: 'Close' }).click();
    await userRow(page, memberEmail).getByText('Invited').waitFor();
    await userRow(page, memberEmail).getByText('Local user').waitFor();
    await userRow(page, memberEmail).getByText('Member', { exact: true }).waitFor();

    // The invitee, in their own browser.
    const invitee = await newPage(browser, portal.url);
    await invitee.page.goto(link);
    await invitee.page.getByRole('heading', { name: 'Activate your account' }).waitFor();
    await invitee.page.getByText(`Choose a password for ${memberEmail}.`).waitFor();
    await invitee.page.getByLabel('New password').fill(MEMBER_PASSWORD);
    await invitee.page.getByLabel('Confirm password').fill(MEMBER_PASSWORD);
    await invitee.page.getByRole('button', { name: 'Activate' }).click();
    await invitee.page.getByText('Your account is activated. Sign in with your email and new password.').waitFor();
    await invitee.page.getByLabel('Email').fill(memberEmail);
    await invitee.page.getByLabel('Password').fill(MEMBER_PASSWORD);
    await invitee.page.getByRole('button', { name: 'Sign in' }).click();
    await expectSignedInAs(invitee.page, memberEmail);
    expect(await invitee.page.getByRole('link', { name: 'Settings' }).count()).toBe(0);

    // The link was single use, and the page says so when it opens, before any password is typed.
    await invitee.page.goto(link);
    await invitee.page.getByRole('heading', { name: 'Activate your account' }).waitFor();
    await invitee.page.getByText(/This activation link is not valid/).waitFor();
    expect(await invitee.page.getByLabel('New password').count()).toBe(0);
    await invitee.context.close();

    await page.reload();
    await userRow(page, memberEmail).getByText('Active').waitFor();
    localMember = { email: memberEmail, password: MEMBER_PASSWORD };
  });

  it('changes a user’s role: the promoted Member sees Settings', async () => {
    const { page } = admin;
    await openUsers(page);
    await page.getByRole('checkbox', { name: `Select ${localMember.email}` }).check();
    await page.getByRole('button', { name: 'Change role' }).click();
    const dialog = page.getByRole('dialog', { name: 'Change role' });
    await dialog.getByRole('radio', { name: 'Administrator' }).check();
    await dialog.getByRole('button', { name: 'OK' }).click();
    await page.getByText(`${localMember.email} is now an Administrator.`).waitFor();
    await userRow(page, localMember.email).getByText('Administrator', { exact: true }).waitFor();
    // The action cleared the selection: a next Remove cannot take this row along by accident.
    expect(await page.getByRole('checkbox', { name: `Select ${localMember.email}` }).isChecked()).toBe(false);
    expect(await page.getByRole('toolbar', { name: 'User actions' }).getByRole('button', { name: 'Remove' }).getAttribute('aria-disabled')).toBe('true');

    const promoted = await newPage(browser, portal.url);
    await promoted.page.goto('/signin');
    await promoted.page.getByLabel('Email').fill(localMember.email);
    await promoted.page.getByLabel('Password').fill(localMember.password);
    await promoted.page.getByRole('button', { name: 'Sign in' }).click();
    await expectSignedInAs(promoted.page, localMember.email);
    await promoted.page.getByRole('banner').getByRole('link', { name: 'Settings' }).waitFor();
    await promoted.context.close();
  });

  it('adds a Microsoft 365 user by address, who signs in with Microsoft 365; an unknown address is rejected with its reason', async () => {
    const { page } = admin;
    await createProfile(page, PROFILE, CONTOSO.admin);

    await openUsers(page);
    const drawer = await openAddUser(page);
    await chooseMicrosoftProfile(drawer, page, PROFILE);
    await drawer.getByRole('textbox', { name: 'Email addresses' }).fill(`${ALEX}\nnobody@contoso.com`);
    await drawer.getByRole('radio', { name: 'Member' }).check();
    await drawer.getByRole('button', { name: 'Add', exact: true }).click();
    await drawer.getByText('Added 1 user.').waitFor();
    const rejected = drawer.getByRole('list', { name: 'Rejected addresses' });
    await rejected.getByText('nobody@contoso.com: No user or group with the address nobody@contoso.com exists in the tenant', { exact: false }).waitFor();
    // The answer has its own step: nothing of the form lies under the reasons.
    expect(await drawer.getByRole('radio').count()).toBe(0);
    expect(await drawer.getByRole('textbox', { name: 'Email addresses' }).count()).toBe(0);
    // "Add more": the rejected address stays in the box to correct; the added one is gone.
    await drawer.getByRole('button', { name: 'Add more' }).click();
    expect(await drawer.getByRole('textbox', { name: 'Email addresses' }).inputValue()).toBe('nobody@contoso.com');
    await drawer.getByRole('button', { name: 'Close' }).click();
    await userRow(page, ALEX).getByText('Microsoft 365 user').waitFor();
    await userRow(page, ALEX).getByText(PROFILE).waitFor();
    expect(await userRow(page, 'nobody@contoso.com').count()).toBe(0);

    const alex = await signInWithMicrosoft(browser, portal, ALEX);
    await expectSignedInAs(alex.page, ALEX);
    expect(await alex.page.getByRole('link', { name: 'Settings' }).count()).toBe(0);
    await alex.context.close();
  });

  it('adds a group through Browse; a member of a nested group signs in with Microsoft 365', async () => {
    const { page } = admin;
    await openUsers(page);
    const drawer = await openAddUser(page);
    await chooseMicrosoftProfile(drawer, page, PROFILE);
    await drawer.getByRole('button', { name: 'Browse' }).click();
    const browse = page.getByRole('dialog', { name: 'Browse Microsoft 365' });
    await browse.getByRole('tab', { name: 'Groups' }).click();
    await browse.getByRole('searchbox', { name: 'Search directory' }).fill('Sales');
    const groups = browse.getByRole('list', { name: 'Groups' });
    await groups.getByRole('checkbox', { name: 'Select Sales EMEA' }).waitFor();
    await groups.getByRole('checkbox', { name: 'Select Sales', exact: true }).check();
    await browse.getByText('1 group selected').waitFor();
    await browse.getByRole('button', { name: 'Add selected' }).click();
    await browse.waitFor({ state: 'hidden' });
    expect(await drawer.getByRole('textbox', { name: 'Email addresses' }).inputValue()).toBe(SALES);
    await drawer.getByRole('radio', { name: 'Member' }).check();
    await drawer.getByRole('button', { name: 'Add', exact: true }).click();
    await drawer.getByText('Added 1 user.').waitFor();
    await drawer.getByRole('button', { name: 'Close' }).click();

    await userRow(page, SALES).getByText('Microsoft 365 group').waitFor();
    // The membership download finishes: its progress bar goes away.
    await page.getByRole('progressbar', { name: `Member download for ${SALES}` }).waitFor({ state: 'hidden' });
    await userRow(page, SALES).getByText('Active').waitFor();
    // Done: how many members (alex, and diego through Sales EMEA) and when they were downloaded; never "0 of 0".
    await userRow(page, SALES).getByText(/^2 members, downloaded \w{3} \d{1,2}, \d{4}, \d{1,2}:\d{2}/).waitFor();
    expect(await userRow(page, SALES).getByText(/Syncing|Downloading members|0 of 0/).count()).toBe(0);

    // diego is in Sales EMEA, itself a member of Sales.
    const diego = await signInWithMicrosoft(browser, portal, DIEGO);
    await expectSignedInAs(diego.page, DIEGO);
    await diego.context.close();

    // He now has a record of his own, through the group.
    await page.reload();
    await userRow(page, DIEGO).getByText('Microsoft 365 user').waitFor();
  });

  it('refuses a member removed from the group in the tenant, with the reason on the sign-in page', async () => {
    const removed = await fetch(`${portal.sandbox!.baseUrl}/_sandbox/tenants/${CONTOSO.id}/groups/${SALES_EMEA_ID}/members/${encodeURIComponent(DIEGO)}`, { method: 'DELETE' });
    expect(removed.status, await removed.text()).toBeLessThan(300);

    const diego = await signInWithMicrosoft(browser, portal, DIEGO);
    await diego.page.getByRole('heading', { name: 'Sign in to Tenantgate' }).waitFor();
    await diego.page.getByText(REMOVED_FROM_GROUP).waitFor();
    expect(new URL(diego.page.url()).searchParams.get('error')).toBe('REMOVED_FROM_GROUP');
    expect(await diego.page.getByRole('button', { name: 'Sign out' }).count()).toBe(0);
    await screenshot(diego.page, 'users-removed-from-group');
    await diego.context.close();
  });

  it('removes the Microsoft 365 users and group (never the portal owner), then deletes the app profile', async () => {
    const { page } = admin;
    await openUsers(page);
    await expect(page.getByRole('checkbox', { name: `Select ${ownerEmail}` }).isDisabled()).resolves.toBe(true);

    const microsoftRows = [ALEX, SALES, DIEGO];
    for (const email of microsoftRows) await page.getByRole('checkbox', { name: `Select ${email}` }).check();
    await page.getByRole('toolbar', { name: 'User actions' }).getByRole('button', { name: 'Remove' }).click();
    const confirm = page.getByRole('dialog', { name: 'Remove users' });
    for (const email of [ALEX, DIEGO]) await confirm.getByText(email, { exact: true }).waitFor();
    // Removing a group says that its members go with it.
    await confirm.getByText(`${SALES}: every member of this Microsoft 365 group who was not added another way`).waitFor();
    // A destructive confirmation is red (Fluent's danger background), not the blue of an everyday OK.
    expect(await confirm.getByRole('button', { name: 'Remove' }).evaluate((button) => getComputedStyle(button).backgroundColor)).toBe('rgb(197, 15, 31)');
    await confirm.getByRole('button', { name: 'Remove' }).click();
    await confirm.waitFor({ state: 'hidden' });
    await page.getByText(/^Removed: /).waitFor();
    for (const email of microsoftRows) await userRow(page, email).waitFor({ state: 'detached' });
    await userRow(page, ownerEmail).waitFor();

    // No longer used: the profile can go.
    await openAppProfiles(page);
    await page.getByRole('checkbox', { name: `Select ${PROFILE}` }).check();
    await page.getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete app profiles' });
    await dialog.getByText(PROFILE).waitFor();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.getByText(`Deleted: ${PROFILE}.`).waitFor();
    expect(await page.getByRole('row').filter({ hasText: PROFILE }).count()).toBe(0);
  });
});

