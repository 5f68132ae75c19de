// Takes the README's screenshots: a real portal with its sandbox cloud, driven in Debian's Chromium through a
// partner administrator's first steps, each main page at a laptop (1366 px) and a phone (390 px) width.
// `npm run screenshots` (needs the built web app: it runs `build:web` first) writes docs/screenshots/*.png.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { launchBrowser, signInAtMicrosoft, signUpInBrowser } from '../test/support/browser';
import { startTestPortal } from '../test/support/portal';

const OUT = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));
const WIDTHS = [
  { name: 'desktop', width: 1366, height: 768 },
  { name: 'phone', width: 390, height: 844 },
] as const;

async function createProfile(page: Page, name: string, admin: string): Promise<void> {
  await page.goto('/settings/app-profiles?create=1');
  await page.getByRole('dialog').getByLabel('Profile name').fill(name);
  await page.getByRole('dialog').getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('dialog', { name: 'Go to Microsoft 365 sign-in' }).getByRole('button', { name: 'OK' }).click();
  await signInAtMicrosoft(page, admin);
  await page.getByRole('button', { name: 'Accept' }).click();
  await page.getByText('App profile created.').waitFor();
}

async function addUsers(page: Page, emails: string[], microsoftProfile?: string): Promise<void> {
  await page.goto('/settings/users?add=1');
  const drawer = page.getByRole('dialog', { name: 'Add new user' });
  if (microsoftProfile) {
    await drawer.getByRole('radio', { name: 'Microsoft 365 User/Group' }).check();
    await drawer.getByRole('combobox', { name: 'App profile' }).click();
    await page.getByRole('option', { name: microsoftProfile }).click();
  }
  await drawer.getByRole('textbox', { name: 'Email addresses' }).fill(emails.join('\n'));
  await drawer.getByRole('button', { name: 'Add', exact: true }).click();
  await drawer.getByText(/^Added \d+ users?\./).waitFor();
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  // The queue's worker runs, so the Sales group's member download finishes before its row is shot.
  const portal = await startTestPortal('sqlite', {}, { queueWorker: true });
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ baseURL: portal.url, viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    await signUpInBrowser(page, 'Blue Yonder Partners');
    await createProfile(page, 'Contoso production', 'admin@contoso.com');
    await addUsers(page, ['alex@contoso.com', 'adele@contoso.com', 'sales@contoso.com'], 'Contoso production');
    await addUsers(page, ['pat.lee@blueyonder.example', 'sam.ortiz@blueyonder.example']);

    const shots: { name: string; path: string; ready: (page: Page) => Promise<unknown> }[] = [
      { name: 'home', path: '/', ready: (p) => p.getByRole('heading', { name: /^Welcome/ }).waitFor() },
      { name: 'settings', path: '/settings', ready: (p) => p.getByRole('heading', { name: 'Settings' }).waitFor() },
      { name: 'app-profiles', path: '/settings/app-profiles', ready: (p) => p.getByText('Contoso Ltd').first().waitFor() },
      { name: 'users', path: '/settings/users', ready: (p) => p.getByText(/^2 members, downloaded /).first().waitFor() },
      { name: 'add-user', path: '/settings/users?add=1', ready: (p) => p.getByRole('dialog', { name: 'Add new user' }).waitFor() },
      { name: 'audit', path: '/settings/audit', ready: (p) => p.getByRole('heading', { name: 'Audit log' }).waitFor() },
    ];
    for (const size of WIDTHS) {
      await page.setViewportSize({ width: size.width, height: size.height });
      for (const shot of shots) {
        await page.goto(shot.path);
        await shot.ready(page);
        await page.waitForTimeout(300);
        await page.screenshot({ path: path.join(OUT, `${shot.name}-${size.name}.png`) });
      }
    }
    const visitor = await browser.newContext({ baseURL: portal.url });
    const signIn = await visitor.newPage();
    for (const size of WIDTHS) {
      await signIn.setViewportSize({ width: size.width, height: size.height });
      await signIn.goto('/signin');
      await signIn.getByRole('heading', { name: 'Sign in to Tenantgate' }).waitFor();
      await signIn.screenshot({ path: path.join(OUT, `signin-${size.name}.png`) });
    }
    console.log(`screenshots: wrote ${path.relative(process.cwd(), OUT)}`);
  } finally {
    await browser.close();
    await portal.close();
  }
}

await main();
