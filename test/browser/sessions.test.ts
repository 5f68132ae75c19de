import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../support/api-client';
import { PORTAL_PASSWORD, launchBrowser, newPage, signUpInBrowser } from '../support/browser';
import { startTestPortal, type TestPortal } from '../support/portal';

describe('sessions in the browser', () => {
  let portal: TestPortal;
  let browser: Browser;
  beforeAll(async () => {
    portal = await startTestPortal('sqlite', {}, { queueWorker: true });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await portal?.close();
  });

  it('"Sign out everywhere" in the account menu ends this session and the one on another computer', async () => {
    const { context, page } = await newPage(browser, portal.url);
    const email = await signUpInBrowser(page, 'Everywhere Partners');
    const elsewhere = new ApiClient(portal.url);
    expect((await elsewhere.post('/api/session', { email, password: PORTAL_PASSWORD })).status).toBe(200);

    await page.getByRole('banner').getByRole('button', { name: email }).click();
    await page.getByRole('menuitem', { name: 'Sign out everywhere' }).click();
    await page.getByRole('heading', { name: 'Sign in to Tenantgate' }).waitFor();
    expect((await elsewhere.get('/api/session')).status).toBe(401);
    await context.close();
  });
});
