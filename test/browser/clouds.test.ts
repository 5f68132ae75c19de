import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousViolations } from '../support/axe';
import { launchBrowser, newPage, signInAtMicrosoft, signUpInBrowser } from '../support/browser';
import { startTestPortal, type TestPortal } from '../support/portal';

const TAILSPIN_DOD = { domain: 'tailspindefense.mil', admin: 'admin@tailspindefense.mil' };

async function openCreateConfirm(page: Page, name: string) {
  await page.getByRole('banner').getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('link', { name: /Partner app profile/ }).click();
  await page.getByRole('heading', { name: 'App profiles' }).waitFor();
  await page.getByRole('button', { name: 'Create' }).click();
  const create = page.getByRole('dialog', { name: 'Create app profile' });
  await create.getByLabel('Profile name').fill(name);
  await create.getByRole('button', { name: 'Continue' }).click();
  const confirm = page.getByRole('dialog', { name: 'Go to Microsoft 365 sign-in' });
  await confirm.waitFor();
  return confirm;
}

describe('detecting the version in the Create dialog (US Gov Virginia data center)', () => {
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

  it('creates a DoD profile by typing its domain: Detect chooses U.S. Government and says why', async () => {
    const { context, page } = await newPage(browser, portal.url);
    await signUpInBrowser(page);
    const confirm = await openCreateConfirm(page, 'Tailspin DoD');
    const usgov = confirm.getByRole('radio', { name: /Microsoft 365 U\.S\. Government/ });
    expect(await usgov.isChecked()).toBe(false);
    // Each version's hint comes from the sign-in host the API gives for it.
    await confirm.getByText('Your customer’s Microsoft login URL ends with .us').waitFor();
    await confirm.getByText('Your customer’s Microsoft login URL ends with .com').waitFor();
    await confirm.getByLabel('Tenant domain').fill(TAILSPIN_DOD.domain);
    await confirm.getByRole('button', { name: 'Detect' }).click();
    await confirm.getByText('DoD tenants use Microsoft 365 U.S. Government.', { exact: false }).waitFor();
    expect(await usgov.isChecked()).toBe(true);
    expect(await seriousViolations(page)).toEqual([]);
    await confirm.getByRole('button', { name: 'OK' }).click();
    await signInAtMicrosoft(page, TAILSPIN_DOD.admin);
    await page.getByRole('heading', { name: 'Permissions requested' }).waitFor();
    await page.getByRole('button', { name: 'Accept' }).click();
    await page.getByText('App profile created.').waitFor();
    const row = page.getByRole('row').filter({ hasText: 'Tailspin DoD' });
    await row.getByText('U.S. Government').waitFor();
    await row.getByText(TAILSPIN_DOD.domain, { exact: true }).waitFor();
    const stored = await portal.services.db.selectFrom('app_profiles').select(['cloud', 'graph_host']).where('name', '=', 'Tailspin DoD').executeTakeFirstOrThrow();
    expect(stored).toEqual({ cloud: 'usgov', graph_host: 'dod-graph.microsoft.us' });
    await context.close();
  });

  it('explains a GCC tenant, and leaves the choice to the person when the domain is unknown', async () => {
    const { context, page } = await newPage(browser, portal.url);
    await signUpInBrowser(page);
    const confirm = await openCreateConfirm(page, 'Woodgrove');
    await confirm.getByLabel('Tenant domain').fill('woodgrovecounty.gov');
    await confirm.getByLabel('Tenant domain').press('Enter');
    await confirm.getByText('GCC tenants use Global Microsoft 365.', { exact: false }).waitFor();
    expect(await confirm.getByRole('radio', { name: /Global Microsoft 365/ }).isChecked()).toBe(true);

    await confirm.getByLabel('Tenant domain').fill('no-such-tenant.example');
    await confirm.getByRole('button', { name: 'Detect' }).click();
    await confirm.getByText(/No Microsoft 365 tenant uses the domain no-such-tenant\.example/).waitFor();
    // The earlier choice stays; nothing was chosen for the person by the failure.
    expect(await confirm.getByRole('radio', { name: /Global Microsoft 365/ }).isChecked()).toBe(true);
    expect(await confirm.getByRole('radio', { name: /U\.S\. Government/ }).isChecked()).toBe(false);
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();
  });
});
