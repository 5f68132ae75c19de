import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousViolations } from '../support/axe';
import { launchBrowser, newPage, screenshot, signInAtMicrosoft, signUpInBrowser } from '../support/browser';
import { insertLocalUser } from '../support/db-fixtures';
import { CONTOSO, NORTHWIND } from '../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../support/portal';

// Issue 13, the details a partner administrator trips over: profile names checked on Create's first step and
// open to everyday punctuation (item 7), the Add user panel's profile and Browse (item 16), long text in the
// lists (item 5). The tests build on each other, in order, in one partner account.

/** A name with the punctuation people use (en dash, typographic apostrophe, ampersand, exclamation mark). */
const CONTOSO_NAME = 'Contoso – O’Brien & Sons!';
const NORTHWIND_NAME = 'Northwind (EMEA)';
const SIZES = [
  { width: 1366, height: 768 },
  { width: 390, height: 844 },
] as const;

async function openAppProfiles(page: Page): Promise<void> {
  await page.goto('/settings/app-profiles');
  await page.getByRole('heading', { name: 'App profiles' }).waitFor();
}

async function openCreate(page: Page): Promise<Locator> {
  await page.getByRole('toolbar').getByRole('button', { name: 'Create' }).first().click();
  const create = page.getByRole('dialog', { name: 'Create app profile' });
  await create.waitFor();
  return create;
}

/** Create → name → Continue → OK → Microsoft sign-in (or the account picker) → Accept. */
async function createProfile(page: Page, name: string, email: string, picker = false): Promise<void> {
  const create = await openCreate(page);
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

async function openAddUser(page: Page): Promise<Locator> {
  await page.goto('/settings/users');
  await page.getByRole('heading', { name: 'User management' }).waitFor();
  await page.getByRole('button', { name: 'Add new user' }).first().click();
  const drawer = page.getByRole('dialog', { name: 'Add new user' });
  await drawer.getByRole('radio', { name: 'Microsoft 365 User/Group' }).check();
  // The profiles are loaded once the dropdown lists them.
  await page.waitForLoadState('networkidle');
  return drawer;
}

const profileChoice = (drawer: Locator) => drawer.getByRole('combobox', { name: 'App profile' });

const isDisabled = (button: Locator) =>
  button.evaluate((el) => (el as HTMLButtonElement).disabled || el.getAttribute('aria-disabled') === 'true');

async function expectNoSeriousViolations(page: Page, what: string): Promise<void> {
  await page.waitForTimeout(400);
  expect(await seriousViolations(page), what).toEqual([]);
}

const pageOverflow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
const heightOf = async (locator: Locator) => (await locator.boundingBox())!.height;

describe('the details of app profiles and adding users', () => {
  let portal: TestPortal;
  let browser: Browser;
  let admin: { context: BrowserContext; page: Page };

  beforeAll(async () => {
    portal = await startTestPortal('sqlite', {}, { queueWorker: true });
    browser = await launchBrowser();
    admin = await newPage(browser, portal.url);
    await signUpInBrowser(admin.page, 'Details Partners');
  });
  afterAll(async () => {
    await admin?.context.close();
    await browser?.close();
    await portal?.close();
  });

  it('checks a profile name on the first step of Create, and accepts everyday punctuation (item 7)', async () => {
    const { page } = admin;
    await openAppProfiles(page);
    await createProfile(page, CONTOSO_NAME, CONTOSO.admin);

    // The same name again, in other case: said on the name, before the Microsoft 365 step.
    const create = await openCreate(page);
    await create.getByLabel('Profile name').fill('contoso – o’brien & sons!');
    await create.getByRole('button', { name: 'Continue' }).click();
    await create.getByText('An app profile named “contoso – o’brien & sons!” already exists. Choose another name.').waitFor();
    expect(await page.getByRole('dialog', { name: 'Go to Microsoft 365 sign-in' }).count()).toBe(0);
    await screenshot(page, 'admin13-create-name-taken-1366');
    await expectNoSeriousViolations(page, 'Create with a name taken');

    // Markup is refused, in words, on the same step.
    await create.getByLabel('Profile name').fill('Contoso <b>bold</b>');
    await create.getByRole('button', { name: 'Continue' }).click();
    await create.getByText('The profile name cannot contain line breaks, tabs or other control characters, nor < or >.').waitFor();

    // A free name goes on to the Microsoft 365 step.
    await create.getByLabel('Profile name').fill('Fabrikam – “Team” #2');
    await create.getByRole('button', { name: 'Continue' }).click();
    const confirm = page.getByRole('dialog', { name: 'Go to Microsoft 365 sign-in' });
    await confirm.waitFor();
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'hidden' });
  });

  it('preselects a sensible app profile, marks who was added in Browse, counts choices per tab, and disables Browse for an expired profile (item 16)', async () => {
    const { page } = admin;
    await openAppProfiles(page);
    await createProfile(page, NORTHWIND_NAME, NORTHWIND.admin, true);

    // Two Active profiles and none used yet: nothing to go by, so the administrator chooses.
    let drawer = await openAddUser(page);
    expect((await profileChoice(drawer).textContent())?.trim()).toBe('');
    await profileChoice(drawer).click();
    await page.getByRole('option', { name: CONTOSO_NAME }).click();
    await drawer.getByRole('textbox', { name: 'Email addresses' }).fill(CONTOSO.user);
    await drawer.getByRole('button', { name: 'Add', exact: true }).click();
    await drawer.getByText('Added 1 user.').waitFor();
    await drawer.getByRole('button', { name: 'Add more' }).click();

    // Browse marks the person already added: a disabled box and "Added".
    await drawer.getByRole('button', { name: 'Browse' }).click();
    const browse = page.getByRole('dialog', { name: 'Browse Microsoft 365' });
    const users = browse.getByRole('list', { name: 'Users' });
    const alex = users.getByRole('checkbox', { name: 'Select Alex Wilber' });
    await alex.waitFor();
    expect(await alex.isDisabled()).toBe(true);
    await users.getByRole('listitem').filter({ hasText: 'Alex Wilber' }).getByText('Added', { exact: true }).waitFor();
    expect(await users.getByRole('checkbox', { name: 'Select Diego Siciliani' }).isDisabled()).toBe(false);

    // Choices on both tabs are counted per tab, never silently.
    await users.getByRole('checkbox', { name: 'Select Diego Siciliani' }).check();
    await browse.getByText('1 user selected').waitFor();
    await screenshot(page, 'admin13-browse-added-1366');
    await browse.getByRole('tab', { name: 'Groups' }).click();
    await browse.getByRole('list', { name: 'Groups' }).getByRole('checkbox', { name: 'Select Sales', exact: true }).check();
    await browse.getByText('1 user and 1 group selected').waitFor();
    await browse.getByRole('tab', { name: 'Users (1)' }).waitFor();
    await browse.getByRole('tab', { name: 'Groups (1)' }).waitFor();
    await screenshot(page, 'admin13-browse-1366');
    await expectNoSeriousViolations(page, 'Browse with choices on both tabs');
    await page.setViewportSize(SIZES[1]);
    await screenshot(page, 'admin13-browse-390');
    expect(await pageOverflow(page)).toBeLessThanOrEqual(0);
    await page.setViewportSize(SIZES[0]);
    await browse.getByRole('button', { name: 'Add selected' }).click();
    await browse.waitFor({ state: 'hidden' });
    expect(await drawer.getByRole('textbox', { name: 'Email addresses' }).inputValue()).toBe('diego@contoso.com\nsales@contoso.com');
    await drawer.getByRole('button', { name: 'Cancel' }).click();

    // The profile used last is taken next time.
    drawer = await openAddUser(page);
    expect((await profileChoice(drawer).textContent())?.trim()).toBe(CONTOSO_NAME);
    await drawer.getByRole('button', { name: 'Cancel' }).click();

    // Contoso's authorization expires: the only Active profile left is taken.
    await portal.services.db.updateTable('app_profiles').set({ status: 'authorization_expired' }).where('name', '=', CONTOSO_NAME).execute();
    drawer = await openAddUser(page);
    expect((await profileChoice(drawer).textContent())?.trim()).toBe(NORTHWIND_NAME);

    // Choosing the expired one disables Browse, with the reason beside it.
    await profileChoice(drawer).click();
    await page.getByRole('option', { name: CONTOSO_NAME }).click();
    const browseButton = drawer.getByRole('button', { name: 'Browse' });
    expect(await isDisabled(browseButton)).toBe(true);
    const reason = drawer.getByText('Browse is unavailable: the app authorization of this profile has expired.');
    await reason.waitFor();
    expect(await browseButton.getAttribute('aria-describedby')).toBe(await reason.getAttribute('id'));
    await screenshot(page, 'admin13-add-user-expired-1366');
    await expectNoSeriousViolations(page, 'Add user with an expired profile');
    await page.setViewportSize(SIZES[1]);
    await screenshot(page, 'admin13-add-user-expired-390');
    await page.setViewportSize(SIZES[0]);
    await drawer.getByRole('button', { name: 'Cancel' }).click();
  });

  it('cuts long names and emails in the lists to one or two lines, with the whole text on hover (item 5)', async () => {
    const { page } = admin;
    const longName = `Northwind ${'Regional Operations '.repeat(6)}`.slice(0, 120);
    expect(longName).toHaveLength(120);
    const longEmail = `${'adele.vance.regional.operations.'.repeat(3)}x@contoso-long-subdomain.example.com`;
    const profile = await portal.services.db.selectFrom('app_profiles').select(['id', 'partner_id']).where('name', '=', NORTHWIND_NAME).executeTakeFirstOrThrow();
    // Written straight to the database: the name rule allows 100 characters, a name may have been longer before.
    await portal.services.db.updateTable('app_profiles').set({ name: longName, status: 'authorization_expired' }).where('id', '=', profile.id).execute();
    const userId = await insertLocalUser(portal.services.db, profile.partner_id, { email: longEmail, password: 'silver-forest-river-9', role: 'member' });
    await portal.services.db.updateTable('users').set({ sign_in_type: 'microsoft365', app_profile_id: profile.id, display_name: longName }).where('id', '=', userId).execute();

    for (const size of SIZES) {
      await page.setViewportSize(size);
      const wide = size.width > 640;

      await openAppProfiles(page);
      const reauthorize = page.getByRole('button', { name: `Re-authorize ${longName}` });
      await reauthorize.waitFor();
      // The row's button: a short label on one line; the profile's name stays in its accessible name.
      expect((await reauthorize.innerText()).trim()).toBe('Re-authorize');
      expect(await heightOf(reauthorize)).toBeLessThanOrEqual(32);
      const name = page.getByText(longName, { exact: true }).filter({ visible: true }).first();
      expect(await heightOf(name), `profile name at ${size.width}`).toBeLessThanOrEqual(48);
      if (wide) expect(await heightOf(page.getByRole('row').filter({ has: reauthorize })), 'profile row').toBeLessThanOrEqual(150);
      expect(await pageOverflow(page), `app profiles at ${size.width}`).toBeLessThanOrEqual(0);
      await name.hover();
      expect((await page.getByRole('tooltip').filter({ hasText: longName }).innerText()).trim()).toBe(longName);
      await screenshot(page, `admin13-app-profiles-long-${size.width}`);
      await page.mouse.move(0, 0);

      await page.goto('/settings/users');
      await page.getByRole('heading', { name: 'User management' }).waitFor();
      const email = page.getByText(longEmail, { exact: true }).filter({ visible: true });
      await email.waitFor();
      expect(await heightOf(email), `email at ${size.width}`).toBeLessThanOrEqual(24);
      for (const text of await page.getByText(longName, { exact: true }).filter({ visible: true }).all()) {
        expect(await heightOf(text), `user's name or profile at ${size.width}`).toBeLessThanOrEqual(48);
      }
      if (wide) expect(await heightOf(page.getByRole('row').filter({ hasText: longEmail })), 'user row').toBeLessThanOrEqual(72);
      expect(await pageOverflow(page), `users at ${size.width}`).toBeLessThanOrEqual(0);
      await email.hover();
      expect((await page.getByRole('tooltip').filter({ hasText: longEmail }).innerText()).trim()).toBe(longEmail);
      await screenshot(page, `admin13-users-long-${size.width}`);
      await page.mouse.move(0, 0);
      await expectNoSeriousViolations(page, `users with long text at ${size.width}`);
    }
    await page.setViewportSize(SIZES[0]);
  });

  it('lets the list columns be resized by mouse and keyboard, and remembers the widths after a reload (item 5)', async () => {
    const { page } = admin;
    await page.setViewportSize(SIZES[0]);
    const longEmail = `${'adele.vance.regional.operations.'.repeat(3)}x@contoso-long-subdomain.example.com`;
    await page.goto('/settings/users');
    const grid = page.getByRole('grid', { name: 'Users' });
    const emailHeader = grid.getByRole('columnheader', { name: 'Email' });
    const nameHeader = grid.getByRole('columnheader', { name: 'Name' });
    const email = grid.getByText(longEmail, { exact: true });
    await email.waitFor();
    const widthOf = async (locator: Locator) => (await locator.boundingBox())!.width;
    // How much of the cut address shows: the width of its one line.
    const shownOf = (locator: Locator) => locator.evaluate((el) => el.clientWidth);
    const before = { header: await widthOf(emailHeader), shown: await shownOf(email), name: await widthOf(nameHeader) };
    expect(await email.evaluate((el) => el.scrollWidth > el.clientWidth), 'the address is cut before').toBe(true);

    // The mouse: drag the Email header's right edge 150 px to the right.
    await emailHeader.hover();
    const handle = emailHeader.locator('.fui-TableResizeHandle');
    const box = (await handle.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    for (let step = 1; step <= 10; step++) await page.mouse.move(box.x + box.width / 2 + step * 15, box.y + box.height / 2);
    await page.mouse.up();
    await expect.poll(() => widthOf(emailHeader)).toBeGreaterThanOrEqual(before.header + 140);
    const dragged = await widthOf(emailHeader);
    expect(dragged).toBeLessThanOrEqual(before.header + 160);
    // The address that was cut shows that much more of itself.
    expect(await shownOf(email)).toBeGreaterThanOrEqual(before.shown + 140);
    await screenshot(page, 'admin13-users-resized-1366');

    // The keyboard: the Name header's context menu (Shift+F10), "Resize column with arrow keys", three steps right.
    await nameHeader.getByRole('button', { name: 'Name' }).focus();
    await page.keyboard.press('Shift+F10');
    await page.getByRole('menuitem', { name: 'Resize column with arrow keys' }).waitFor();
    await page.keyboard.press('Enter');
    const separator = nameHeader.getByRole('separator', { name: 'Resize column' });
    await expect.poll(() => separator.evaluate((el) => el === document.activeElement)).toBe(true);
    const nameBefore = await widthOf(nameHeader);
    for (let step = 0; step < 3; step++) await page.keyboard.press('ArrowRight');
    await expect.poll(() => widthOf(nameHeader)).toBeCloseTo(nameBefore + 60, 0);
    await expectNoSeriousViolations(page, 'users while a column is resized with the keyboard');
    await page.keyboard.press('Enter');
    expect(await separator.count(), 'the handle is hidden again from assistive technology').toBe(0);
    const keyed = await widthOf(nameHeader);

    // A reload keeps both widths (this browser remembers them).
    await page.reload();
    await email.waitFor();
    await expect.poll(() => widthOf(emailHeader)).toBeCloseTo(dragged, 0);
    expect(await widthOf(nameHeader)).toBeCloseTo(keyed, 0);
    await expectNoSeriousViolations(page, 'users with resized columns');

    // The app profiles list too, by its own widths.
    await openAppProfiles(page);
    const profiles = page.getByRole('grid', { name: 'App profiles' });
    const profileName = profiles.getByRole('columnheader', { name: 'Name' });
    const profileBefore = await widthOf(profileName);
    await profileName.hover();
    const profileHandle = (await profileName.locator('.fui-TableResizeHandle').boundingBox())!;
    await page.mouse.move(profileHandle.x + profileHandle.width / 2, profileHandle.y + 10);
    await page.mouse.down();
    for (let step = 1; step <= 5; step++) await page.mouse.move(profileHandle.x + profileHandle.width / 2 + step * 20, profileHandle.y + 10);
    await page.mouse.up();
    await expect.poll(() => widthOf(profileName)).toBeGreaterThanOrEqual(profileBefore + 90);
    const profileDragged = await widthOf(profileName);
    await page.reload();
    await profiles.getByRole('row').nth(1).waitFor();
    await expect.poll(() => widthOf(profileName)).toBeCloseTo(profileDragged, 0);
    // The users list kept its own.
    await page.goto('/settings/users');
    await email.waitFor();
    await expect.poll(() => widthOf(emailHeader)).toBeCloseTo(dragged, 0);

    // "Reset column widths" (the same menu) goes back to the defaults.
    await emailHeader.click({ button: 'right' });
    await page.getByRole('menuitem', { name: 'Reset column widths' }).click();
    await expect.poll(() => widthOf(emailHeader)).toBeCloseTo(before.header, 0);
    expect(await widthOf(nameHeader)).toBeCloseTo(before.name, 0);

    // Below 640 px the lists stay cards.
    await page.setViewportSize(SIZES[1]);
    await page.getByRole('list', { name: 'Users' }).waitFor();
    expect(await page.getByRole('grid').count()).toBe(0);
    expect(await pageOverflow(page)).toBeLessThanOrEqual(0);
    await page.setViewportSize(SIZES[0]);
  });
});
