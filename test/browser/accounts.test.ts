import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../support/api-client';
import { PORTAL_PASSWORD, launchBrowser, newPage, signUpInBrowser, uniqueEmail } from '../support/browser';
import { insertLocalUser } from '../support/db-fixtures';
import { startTestPortal, type TestPortal } from '../support/portal';

describe('accounts in the browser', () => {
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

  it('signs up, signs out, signs in, opens Settings and the audit log', async () => {
    const { context, page } = await newPage(browser, portal.url);
    const email = await signUpInBrowser(page, 'Browser Partners');
    await page.getByText('Sandbox Microsoft cloud').waitFor();
    await page.getByText(email).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Tenantgate' }).waitFor();
    await page.getByRole('link', { name: 'Sign in with Microsoft 365' }).waitFor();

    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('not-my-password-1');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('The email or password is incorrect.').waitFor();

    await page.getByLabel('Password').fill(PORTAL_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: /^Welcome/ }).waitFor();

    await page.getByRole('banner').getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Settings' }).waitFor();
    await page.getByRole('link', { name: /Partner app profile/ }).waitFor();
    await page.getByRole('link', { name: /User management/ }).waitFor();
    await page.getByRole('link', { name: /Audit log/ }).click();
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    // The failed and the successful sign-in, the sign-out and the sign-up are all there.
    await page.getByRole('cell', { name: 'Sign-in', exact: true }).first().waitFor();
    await page.getByRole('cell', { name: 'Sign-out', exact: true }).waitFor();
    await page.getByRole('cell', { name: 'Partner account created', exact: true }).waitFor();
    await page.getByRole('cell', { name: 'failure' }).waitFor();
    await context.close();
  });

  it('sign-up shows the password rules up front and every field error at once, in words', async () => {
    const { context, page } = await newPage(browser, portal.url);
    await page.goto('/signup');
    await page.getByText('At least 10 characters. Not a common password, and not your name or email.').waitFor();
    await page.getByLabel('Email').fill('pat');
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByText('Enter the name of your organization.').waitFor();
    await page.getByText('Enter an email address such as name@example.com.').waitFor();
    await page.getByText('The password needs at least 10 characters.').waitFor();
    expect(await page.getByText(/organizationName/).count()).toBe(0);

    // What only the server knows comes back on its field, in words.
    await page.getByLabel('Organization name').fill('Rules Partners');
    await page.getByLabel('Email').fill(uniqueEmail());
    await page.getByLabel('Password').fill('password123');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByText(/too easy to guess/).waitFor();
    await context.close();
  });

  it('shows a Member no Settings', async () => {
    const owner = new ApiClient(portal.url);
    const signup = await owner.post('/api/signup', { organizationName: 'Member Test', email: uniqueEmail(), password: PORTAL_PASSWORD });
    const memberEmail = uniqueEmail('member');
    await insertLocalUser(portal.services.db, signup.body.partner.id, { email: memberEmail, password: PORTAL_PASSWORD, role: 'member' });

    const { context, page } = await newPage(browser, portal.url);
    await page.goto('/signin');
    await page.getByLabel('Email').fill(memberEmail);
    await page.getByLabel('Password').fill(PORTAL_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: /^Welcome/ }).waitFor();
    expect(await page.getByRole('link', { name: 'Settings' }).count()).toBe(0);
    await page.goto('/settings/app-profiles');
    await page.getByText('You do not have access to Settings.').waitFor();
    await context.close();
  });
});
