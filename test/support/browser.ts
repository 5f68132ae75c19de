import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium, launched the way this machine allows (no sandbox, no background networking). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** A fresh browser profile (its own cookies at the portal and at the sandbox cloud). */
export async function newPage(browser: Browser, baseURL: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL, viewport: { width: 1400, height: 900 } });
  context.setDefaultTimeout(30_000);
  const page = await context.newPage();
  return { context, page };
}

let counter = 0;
export const uniqueEmail = (prefix = 'owner') => `${prefix}${Date.now()}${counter++}@acme-partner.test`;
export const PORTAL_PASSWORD = 'violet-harbor-lantern-42';

/** Signs up through the UI, as a person would. */
export async function signUpInBrowser(page: Page, organizationName = 'Acme Partners'): Promise<string> {
  const email = uniqueEmail();
  await page.goto('/signup');
  await page.getByLabel('Organization name').fill(organizationName);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PORTAL_PASSWORD);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('heading', { name: /^Welcome/ }).waitFor();
  return email;
}

/** Signs in at the sandbox cloud's Microsoft sign-in page. */
export async function signInAtMicrosoft(page: Page, email: string, password = 'Passw0rd!'): Promise<void> {
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Saves a screenshot of the page under test-results/ (kept by failing tests for a look afterwards). */
export async function screenshot(page: Page, name: string): Promise<string> {
  const file = `test-results/${name.replace(/[^a-z0-9-]+/gi, '-')}.png`;
  await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
  return file;
}
