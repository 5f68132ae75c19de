import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousViolations } from '../support/axe';
import { launchBrowser, newPage, screenshot, signInAtMicrosoft, signUpInBrowser } from '../support/browser';
import { CONTOSO } from '../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../support/portal';
import { startSmtpServer } from '../support/smtp-server';

const row = (page: Page, name: string) => page.getByRole('row').filter({ hasText: name });

/** Issue 10, section 3 in the browser: "Send a link instead", the Global Administrator in a browser of their own. */
describe('consent links in the browser', () => {
  let portal: TestPortal;
  let browser: Browser;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    portal = await startTestPortal('sqlite', { SMTP_URL: smtp.url, SMTP_FROM: 'portal@tenantgate.test' }, { queueWorker: true });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await portal?.close();
    await smtp?.close();
  });

  async function createLinkFromDialog(page: Page): Promise<string> {
    const step = page.getByRole('dialog', { name: 'Send a link instead' });
    await step.getByLabel(/Global Administrator’s email/).fill(CONTOSO.admin);
    await step.getByRole('button', { name: 'Create link' }).click();
    const shown = page.getByRole('dialog', { name: 'Consent link' });
    const url = await shown.getByLabel('Link').inputValue();
    // The portal can send mail: the link went to the address given, and the dialog says so.
    await shown.getByText(`Emailed to ${CONTOSO.admin}.`).waitFor();
    expect(smtp.mails.at(-1)?.to).toEqual([CONTOSO.admin.toLowerCase()]);
    expect(await seriousViolations(page), 'consent link dialog').toEqual([]);
    await shown.getByRole('button', { name: 'Copy' }).click();
    await shown.getByRole('button', { name: 'Copied' }).waitFor();
    await shown.getByRole('button', { name: 'Done' }).click();
    return url;
  }

  it('sends a link from Create; the Global Administrator without a portal account connects the tenant; Revoke closes a link', async () => {
    const { context, page } = await newPage(browser, portal.url);
    await context.grantPermissions(['clipboard-read', 'clipboard-write']).catch(() => undefined);
    await signUpInBrowser(page, 'Link Partners');
    await page.goto(`${portal.url}/settings/app-profiles`);
    await page.getByRole('heading', { name: 'App profiles' }).waitFor();

    await page.getByRole('button', { name: 'Create' }).click();
    const create = page.getByRole('dialog', { name: 'Create app profile' });
    await create.getByLabel('Profile name').fill('Contoso via link');
    await create.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('dialog', { name: 'Go to Microsoft 365 sign-in' }).getByRole('button', { name: 'Send a link instead' }).click();
    const url = await createLinkFromDialog(page);
    expect(url).toMatch(/\/consent\/[A-Za-z0-9_-]{43}$/);
    const waiting = row(page, 'Contoso via link');
    await waiting.getByText('Waiting for consent').waitFor();
    await waiting.getByText('New app profile').waitFor();
    expect(await seriousViolations(page), 'waiting for consent rows').toEqual([]);

    // The Global Administrator: another browser, no portal session.
    const ga = await newPage(browser, portal.url);
    await ga.page.goto(url);
    await ga.page.getByRole('heading', { name: 'Link Partners asks for your consent' }).waitFor();
    await ga.page.getByText('Read group memberships').waitFor();
    await ga.page.getByText('Global Microsoft 365').waitFor();
    expect(await seriousViolations(ga.page), 'consent link page').toEqual([]);
    await ga.page.getByRole('link', { name: 'Continue to Microsoft' }).click();
    await signInAtMicrosoft(ga.page, CONTOSO.admin);
    await ga.page.getByRole('heading', { name: 'Permissions requested' }).waitFor();
    await ga.page.getByRole('button', { name: 'Accept' }).click();
    await ga.page.getByText('Your tenant is now connected as “Contoso via link” for Link Partners.').waitFor();
    await screenshot(ga.page, 'consent-link-done');
    // Opened again: already used, nothing changes.
    await ga.page.goto(url);
    await ga.page.getByRole('heading', { name: 'Consent link already used' }).waitFor();
    await ga.context.close();

    await page.reload();
    await row(page, 'Contoso via link').getByText('Active').waitFor();
    expect(await page.getByText('Waiting for consent').count()).toBe(0);

    // Re-authorize app → Send a link instead → Revoke it.
    await page.getByRole('checkbox', { name: 'Select Contoso via link' }).check();
    await page.getByRole('button', { name: 'Re-authorize app' }).click();
    await page.getByRole('dialog', { name: 'Re-authorize app' }).getByRole('button', { name: 'Send a link instead' }).click();
    const second = await createLinkFromDialog(page);
    await page.getByRole('row').filter({ hasText: 'Re-authorize app' }).getByText('Waiting for consent').waitFor();
    await page.getByRole('button', { name: 'Revoke link for Contoso via link' }).click();
    await page.getByRole('heading', { name: 'Waiting for consent' }).waitFor({ state: 'detached' });
    const late = await newPage(browser, portal.url);
    await late.page.goto(second);
    await late.page.getByText(/withdrawn by the partner/).waitFor();
    await late.context.close();
    await context.close();
  });
});
