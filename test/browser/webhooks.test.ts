import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousViolations } from '../support/axe';
import { launchBrowser, newPage, screenshot, signUpInBrowser } from '../support/browser';
import { startTestPortal, type TestPortal } from '../support/portal';
import { startWebhookReceiver } from '../support/webhook-receiver';

describe('webhooks in Settings', () => {
  let portal: TestPortal;
  let browser: Browser;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;

  beforeAll(async () => {
    receiver = await startWebhookReceiver({ status: (path) => ({ code: path === '/down' ? 503 : 200 }) });
    portal = await startTestPortal('sqlite', {}, { queueWorker: true });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await portal?.close();
    await receiver?.close();
  });

  it('adds a webhook with its secret shown once, sends a test event, lists deliveries, turns it off and deletes it', async () => {
    const { context, page } = await newPage(browser, portal.url);
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await signUpInBrowser(page);
    await page.getByRole('banner').getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
    await page.getByText('No webhooks yet.').waitFor();

    // A refused URL says why, at the field.
    await page.getByLabel('Endpoint URL').fill('http://10.0.0.1/hook');
    await page.getByRole('button', { name: 'Add webhook' }).click();
    await page.getByText(/10\.0\.0\.1 is a private address/).waitFor();

    const url = `${receiver.url}/hook`;
    await page.getByLabel('Endpoint URL').fill(url);
    await page.getByRole('button', { name: 'Add webhook' }).click();
    const secretBox = page.getByLabel('Signing secret');
    await secretBox.waitFor();
    const secret = await secretBox.inputValue();
    expect(secret).toMatch(/^whsec_/);
    receiver.useSecret(secret);
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByRole('button', { name: `Send test event to ${url}` }).click();
    await page.getByText('Test event delivered (200).').waitFor();
    expect(receiver.received.map((r) => r.signatureValid)).toEqual([true]);
    const deliveries = page.getByRole('table', { name: `Recent deliveries to ${url}` });
    await deliveries.getByRole('cell', { name: 'Delivered (200)' }).waitFor();

    // A second webhook whose receiver answers 503: the failure and its status code are shown.
    const down = `${receiver.url}/down`;
    await page.getByLabel('Endpoint URL').fill(down);
    await page.getByRole('button', { name: 'Add webhook' }).click();
    await page.getByRole('button', { name: `Send test event to ${down}` }).click();
    await page.getByText('Test event not delivered: The receiver answered 503.').waitFor();
    await page.getByRole('table', { name: `Recent deliveries to ${down}` }).getByRole('cell', { name: 'Failed (503)' }).waitFor();

    for (const [width, name] of [[1366, 'webhooks-desktop'], [390, 'webhooks-phone']] as const) {
      await page.setViewportSize({ width, height: width > 500 ? 900 : 844 });
      await screenshot(page, name);
      expect(await seriousViolations(page)).toEqual([]);
      // Nothing wider than the screen.
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    }
    await page.setViewportSize({ width: 1366, height: 900 });

    // Done hides the secret for good: the list never shows it again, not after a reload either.
    await page.getByRole('button', { name: 'Done' }).click();
    await page.reload();
    await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
    await page.getByRole('table', { name: `Recent deliveries to ${url}` }).waitFor();
    expect(await page.content()).not.toContain(secret);

    const enabled = page.getByRole('switch', { name: `Enabled: ${url}` });
    await enabled.click();
    await expect.poll(() => enabled.isChecked()).toBe(false);
    await expect.poll(async () => (await (await page.request.get(`${portal.url}/api/webhooks`)).json()).webhooks.find((w: { url: string }) => w.url === url).enabled).toBe(false);
    await page.getByRole('button', { name: `Delete ${down}` }).click();
    await page.getByRole('button', { name: `Confirm delete ${down}` }).click();
    await page.getByRole('button', { name: `Send test event to ${down}` }).waitFor({ state: 'detached' });
    await context.close();
  }, 60_000);
});
