import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousViolations } from '../support/axe';
import { launchBrowser, signInAtMicrosoft, signUpInBrowser, uniqueEmail } from '../support/browser';
import { startTestPortal, type TestPortal } from '../support/portal';

const SIZES = [
  { name: 'laptop', width: 1366, height: 768 },
  { name: 'phone', width: 390, height: 844 },
] as const;

/** Nothing of the page reaches past the window's right edge (no sideways scrolling of the whole page). */
async function pageOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

/** Runs a command of a list page's command bar, from the "More actions" menu when it did not fit. */
async function runCommand(page: Page, name: string): Promise<string> {
  const toolbar = page.getByRole('toolbar');
  const button = toolbar.getByRole('button', { name, exact: true });
  // isVisible() does not wait: first let the page and the command bar's overflow settle.
  await button.or(toolbar.getByRole('button', { name: 'More actions' })).first().waitFor();
  await page.waitForTimeout(200);
  if (await button.isVisible()) {
    await button.click();
    return name;
  }
  await page.getByRole('button', { name: 'More actions' }).click();
  await page.getByRole('menuitem', { name }).click();
  return 'More actions';
}

/** The name of what has the keyboard focus: its aria-label, else its text. */
async function focusedName(page: Page): Promise<string> {
  return page.evaluate(() => {
    const focused = document.activeElement as HTMLElement | null;
    return focused?.getAttribute('aria-label') ?? focused?.innerText?.trim() ?? '';
  });
}

describe.each(SIZES)('accessibility at $width px ($name)', (size) => {
  let portal: TestPortal;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let memberEmail: string;

  beforeAll(async () => {
    portal = await startTestPortal('sqlite', {}, { queueWorker: true });
    browser = await launchBrowser();
    context = await browser.newContext({ baseURL: portal.url, viewport: { width: size.width, height: size.height }, reducedMotion: 'reduce' });
    context.setDefaultTimeout(30_000);
    page = await context.newPage();
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await portal?.close();
  });

  /** Every check a page must pass: axe-core's serious and critical rules, a title of its own, no sideways page. */
  async function expectAccessible(what: string, title: RegExp): Promise<void> {
    expect(await seriousViolations(page), what).toEqual([]);
    expect(await page.title(), what).toMatch(title);
    expect(await pageOverflow(page), `${what}: page wider than the window`).toBeLessThanOrEqual(0);
  }

  it('the pages before sign-in: landmarks, titles, no serious violations', async () => {
    await page.goto('/signin');
    await page.getByRole('heading', { name: 'Sign in to Tenantgate' }).waitFor();
    await expectAccessible('sign in', /^Sign in to Tenantgate - Tenantgate$/);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Enter your email address.').waitFor();
    await expectAccessible('sign in with errors', /Sign in/);

    await page.goto('/signup');
    await page.getByRole('heading', { name: 'Create your partner account' }).waitFor();
    await expectAccessible('sign up', /^Create your partner account - Tenantgate$/);

    await page.goto('/activate?token=not-a-real-token');
    await page.getByRole('heading', { name: 'Activate your account' }).waitFor();
    await expectAccessible('activate', /^Activate your account - Tenantgate$/);
  });

  it('the signed-in pages: a skip link first, a navigation landmark, titles, no serious violations', async () => {
    await signUpInBrowser(page, 'Accessible Partners');
    await expectAccessible('home', /^Home - Tenantgate$/);
    await page.getByRole('navigation', { name: 'Main' }).waitFor();

    await page.keyboard.press('Tab');
    expect(await focusedName(page)).toBe('Skip to main content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Settings' }).waitFor();
    await expectAccessible('settings', /^Settings - Tenantgate$/);

    await page.goto('/settings/app-profiles');
    await page.getByRole('heading', { name: 'App profiles' }).waitFor();
    await expectAccessible('app profiles', /^Partner app profiles - Tenantgate$/);

    await page.goto('/settings/audit');
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    // A table on a laptop; on a phone a card per entry, as the other lists (no sideways scrolling).
    await page.getByRole(size.width > 640 ? 'table' : 'list', { name: 'Audit log' }).waitFor();
    expect(await page.getByRole(size.width > 640 ? 'list' : 'table', { name: 'Audit log' }).count()).toBe(0);
    await expectAccessible('audit log', /^Audit log - Tenantgate$/);
  });

  it('the dialogs and the panel: no serious violations, and focus goes back to what opened them', async () => {
    await page.goto('/settings/app-profiles');
    const create = page.getByRole('button', { name: 'Create' });
    await create.click();
    await page.getByRole('dialog', { name: 'Create app profile' }).waitFor();
    await expectAccessible('create app profile dialog', /Partner app profiles/);
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    expect(await focusedName(page)).toBe('Create');

    await page.goto('/settings/users');
    await page.getByRole('heading', { name: 'User management' }).waitFor();
    // A phone shows the list as cards, a laptop as a table.
    await (size.width < 640 ? page.getByRole('list', { name: 'Users' }) : page.getByRole('grid', { name: 'Users' })).waitFor();
    await expectAccessible('users', /^User management - Tenantgate$/);
    await page.getByRole('button', { name: 'Add new user' }).click();
    const drawer = page.getByRole('dialog', { name: 'Add new user' });
    await drawer.waitFor();
    await expectAccessible('add user panel', /User management/);
    memberEmail = uniqueEmail('member');
    await drawer.getByRole('textbox', { name: 'Email addresses' }).fill(`${memberEmail}\nnot-an-address`);
    await drawer.getByRole('button', { name: 'Add', exact: true }).click();
    await drawer.getByText('Added 1 user.').waitFor();
    await expectAccessible('add user result', /User management/);
    await drawer.getByRole('button', { name: 'Close' }).click();
    await drawer.waitFor({ state: 'detached' });
    expect(await focusedName(page)).toBe('Add new user');

    await page.getByRole('checkbox', { name: `Select ${memberEmail}` }).check();
    const roleOpener = await runCommand(page, 'Change role');
    await page.getByRole('dialog', { name: 'Change role' }).waitFor();
    await expectAccessible('change role dialog', /User management/);
    await page.getByRole('dialog', { name: 'Change role' }).getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    expect(await focusedName(page)).toBe(roleOpener);

    const opener = await runCommand(page, 'Remove');
    await page.getByRole('dialog', { name: 'Remove users' }).waitFor();
    await expectAccessible('remove users dialog', /User management/);
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    expect(await focusedName(page)).toBe(opener);
  });

  it('the app profile dialogs and the Browse dialog: no serious violations', async () => {
    await page.goto('/settings/app-profiles');
    await runCommand(page, 'Create');
    const create = page.getByRole('dialog', { name: 'Create app profile' });
    await create.getByLabel('Profile name').fill('Contoso');
    await create.getByRole('button', { name: 'Continue' }).click();
    const confirm = page.getByRole('dialog', { name: 'Go to Microsoft 365 sign-in' });
    await confirm.waitFor();
    await expectAccessible('go to Microsoft 365 sign-in dialog', /Partner app profiles/);
    await confirm.getByRole('button', { name: 'OK' }).click();
    await signInAtMicrosoft(page, 'admin@contoso.com');
    await page.getByRole('button', { name: 'Accept' }).click();
    await page.getByText(/^App profile created\./).waitFor();
    await expectAccessible('app profiles with a profile and a message', /Partner app profiles/);

    for (const [command, dialog] of [
      ['Edit profile name', 'Edit profile name'],
      ['Re-authorize app', 'Re-authorize app'],
      ['Delete', 'Delete app profiles'],
    ] as const) {
      await page.getByRole('checkbox', { name: 'Select Contoso' }).check();
      await runCommand(page, command);
      await page.getByRole('dialog', { name: dialog }).waitFor();
      await expectAccessible(`${dialog} dialog`, /Partner app profiles/);
      await page.keyboard.press('Escape');
      await page.getByRole('dialog').waitFor({ state: 'detached' });
      await page.getByRole('checkbox', { name: 'Select Contoso' }).uncheck();
    }

    await page.goto('/settings/users?add=1');
    const drawer = page.getByRole('dialog', { name: 'Add new user' });
    await drawer.getByRole('radio', { name: 'Microsoft 365 User/Group' }).check();
    await drawer.getByRole('button', { name: 'Browse' }).click();
    const browse = page.getByRole('dialog', { name: 'Browse Microsoft 365' });
    await browse.getByText('alex@contoso.com').waitFor();
    await expectAccessible('browse dialog', /User management/);
    await page.keyboard.press('Escape');
    await browse.waitFor({ state: 'detached' });
    expect(await focusedName(page)).toBe('Browse');
  });
});
