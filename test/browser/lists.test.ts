import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newUserRow } from '../../src/server/users/store';
import { launchBrowser, newPage, screenshot, signUpInBrowser } from '../support/browser';
import { startTestPortal, type TestPortal } from '../support/portal';

const NAMES = ['Zoe Vance', 'Adele Vance', 'Bo Li', 'Megan Bowen', 'Lee Gu'];
/** 1,203 added entries and the portal owner: more than one page, a total with a thousands separator. */
const ADDED = 1203;
const MICROSOFT = Math.ceil(ADDED / 3);

/** The text of one column (0 is the selection box) in the users table's rows, in the order shown. */
async function columnTexts(page: Page, column: number): Promise<string[]> {
  const rows = page.getByRole('grid', { name: 'Users' }).getByRole('row');
  const texts = await rows.evaluateAll((all, index) => all.slice(1).map((row) => row.querySelectorAll('[role="gridcell"]')[index]?.textContent ?? ''), column);
  return texts;
}

describe('lists: sort, filter and count like the admin centers', () => {
  let portal: TestPortal;
  let browser: Browser;
  let admin: { context: BrowserContext; page: Page };
  let ownerEmail: string;

  beforeAll(async () => {
    portal = await startTestPortal('sqlite');
    browser = await launchBrowser();
    admin = await newPage(browser, portal.url);
    ownerEmail = await signUpInBrowser(admin.page, 'List Partners');
    const db = portal.services.db;
    const { partner_id: partnerId } = await db.selectFrom('users').select('partner_id').where('email_key', '=', ownerEmail).executeTakeFirstOrThrow();
    const rows = Array.from({ length: ADDED }, (_, i) =>
      newUserRow({
        partner_id: partnerId,
        email: `person${String(i).padStart(4, '0')}@lists.test`,
        display_name: `${NAMES[i % NAMES.length]} ${String(i).padStart(4, '0')}`,
        role: 'member',
        sign_in_type: i % 3 === 0 ? 'microsoft365' : 'local',
        status: 'active',
      }),
    );
    for (let i = 0; i < rows.length; i += 100) await db.insertInto('users').values(rows.slice(i, i + 100)).execute();
    const now = new Date().toISOString();
    const profile = (name: string, cloud: 'global' | 'usgov' | 'china', status: 'active' | 'authorization_expired') => ({
      id: crypto.randomUUID(),
      partner_id: partnerId,
      name,
      name_key: name.toLowerCase(),
      cloud,
      tenant_id: crypto.randomUUID(),
      graph_host: 'graph.microsoft.com',
      tenant_name: `${name} tenant`,
      tenant_domain: `${name.toLowerCase().replace(/\W/g, '')}.test`,
      authorized_by_upn: 'admin@contoso.com',
      authorized_by_oid: crypto.randomUUID(),
      granted_scopes: '[]',
      status,
      status_code: null,
      status_message: null,
      status_fix: null,
      refresh_token_sealed: 'v1.none',
      refresh_token_key_id: 'none',
      authorized_at: now,
      token_used_at: now,
      last_checked_at: null,
      last_check_error_at: null,
      last_check_error_message: null,
      created_at: now,
      updated_at: now,
    });
    await db
      .insertInto('app_profiles')
      .values([profile('Northwind', 'usgov', 'active'), profile('contoso', 'global', 'active'), profile('Fabrikam', 'china', 'authorization_expired')])
      .execute();
  });
  afterAll(async () => {
    await admin?.context.close();
    await browser?.close();
    await portal?.close();
  });

  it('users: the total, sorting by name both ways, a sign-in type filter with its own total, compact rows', async () => {
    const { page } = admin;
    await page.setViewportSize({ width: 1366, height: 768 });
    await page.goto('/settings/users');
    await page.getByRole('status').filter({ hasText: '1,204 users and groups' }).waitFor();

    // Rows stay one line high: a page of 100 is no taller than 100 compact rows.
    const rowHeight = await page.getByRole('grid', { name: 'Users' }).getByRole('row').nth(2).evaluate((row) => row.getBoundingClientRect().height);
    expect(rowHeight).toBeLessThanOrEqual(40);

    const nameHeader = page.getByRole('columnheader', { name: 'Name' });
    await nameHeader.click();
    await expect.poll(() => nameHeader.getAttribute('aria-sort')).toBe('ascending');
    await expect.poll(async () => (await columnTexts(page, 2))[0]).toBe('Adele Vance 0001');
    const ascending = await columnTexts(page, 2);
    expect(ascending).toHaveLength(100);
    expect(ascending.slice(0, 3)).toEqual(['Adele Vance 0001', 'Adele Vance 0006', 'Adele Vance 0011']);
    // The next page continues the same order where the first stopped.
    await page.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(async () => (await columnTexts(page, 2)).length).toBe(200);
    const twoPages = await columnTexts(page, 2);
    expect(twoPages).toEqual([...twoPages].sort());
    expect(new Set(twoPages).size).toBe(200);

    await nameHeader.click();
    await expect.poll(() => nameHeader.getAttribute('aria-sort')).toBe('descending');
    // The owner has no name but their address (lower case sorts after capitals here, as in SQLite's order).
    await expect.poll(async () => (await columnTexts(page, 2)).slice(0, 2)).toEqual([ownerEmail, 'Zoe Vance 1200']);

    await page.getByRole('combobox', { name: 'Sign-in type filter' }).selectOption({ label: 'Microsoft 365 users and groups' });
    await page.getByRole('status').filter({ hasText: `${MICROSOFT} users and groups` }).waitFor();
    await expect.poll(async () => new Set(await columnTexts(page, 3))).toEqual(new Set(['Microsoft 365 user']));
    // Still sorted by name, descending.
    const filtered = await columnTexts(page, 2);
    expect(filtered).toEqual([...filtered].sort().reverse());
    await screenshot(page, 'lists-users-1366');

    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('combobox', { name: 'Sort users by' }).waitFor();
    expect(await page.getByRole('combobox', { name: 'Sort users by' }).inputValue()).toBe('name:descending');
    await page.getByRole('status').filter({ hasText: `${MICROSOFT} users and groups` }).waitFor();
    await screenshot(page, 'lists-users-390');
  });

  it('app profiles: sorted by name, status or cloud in the page, with the total', async () => {
    const { page } = admin;
    await page.setViewportSize({ width: 1366, height: 768 });
    await page.goto('/settings/app-profiles');
    await page.getByRole('heading', { name: 'App profiles' }).waitFor();
    await page.getByRole('status').filter({ hasText: '3 app profiles' }).waitFor();
    const grid = page.getByRole('grid', { name: 'App profiles' });
    const names = () => grid.getByRole('row').evaluateAll((all) => all.slice(1).map((row) => row.querySelectorAll('[role="gridcell"]')[1]?.textContent ?? ''));
    await expect.poll(names).toEqual(['contoso', 'Fabrikam', 'Northwind']);
    await page.getByRole('columnheader', { name: 'Name' }).click();
    await expect.poll(names).toEqual(['Northwind', 'Fabrikam', 'contoso']);
    await page.getByRole('columnheader', { name: 'Cloud' }).click();
    // 21Vianet, Global, U.S. Government
    await expect.poll(names).toEqual(['Fabrikam', 'contoso', 'Northwind']);
    await screenshot(page, 'lists-app-profiles-1366');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('combobox', { name: 'Sort app profiles by' }).selectOption('name:ascending');
    await screenshot(page, 'lists-app-profiles-390');
  });
});
