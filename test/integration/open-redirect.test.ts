import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpPartner } from '../support/api-client';
import { testEngines } from '../support/engines';
import { AdminBrowser, CONTOSO, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../support/portal';
import { REDIRECT_PAYLOADS, sameOrigin } from '../support/redirect-payloads';

/**
 * Issue 8, item 1: a crafted `returnTo` must never send a partner administrator to another site after
 * a real Microsoft round trip. Every payload goes through each route that redirects to it.
 */
describe.each(testEngines())('redirect targets on %s', (engine) => {
  let portal: TestPortal;
  let browser: AdminBrowser;
  let profileId: string;

  beforeAll(async () => {
    portal = await startTestPortal(engine);
    const partner = await signUpPartner(portal.url);
    browser = new AdminBrowser(partner.client);
    const created = await browser.createProfile('Contoso M365', { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
    expect(created.result).toBe('created');
    profileId = created.profileId!;
  });
  afterAll(async () => {
    await portal?.close();
  });

  it(`keeps every final Location of "Create" on the portal (${REDIRECT_PAYLOADS.length} payloads)`, async () => {
    expect(REDIRECT_PAYLOADS.length).toBeGreaterThanOrEqual(25);
    const offsite: string[] = [];
    for (const returnTo of REDIRECT_PAYLOADS) {
      const start = await browser.portal.post('/api/app-profiles', { name: 'Redirect probe', cloud: 'global', returnTo });
      expect(start.status).toBe(201);
      const outcome = await browser.roundTrip(start.body.authorizationUrl, { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'cancel' });
      if (!sameOrigin(outcome.location, portal.url)) offsite.push(`${JSON.stringify(returnTo)} -> ${outcome.location}`);
      else expect(outcome.location).toMatch(/^\/settings\/app-profiles\?result=error/);
    }
    expect(offsite).toEqual([]);
  });

  it('keeps every final Location of "Re-authorize" on the portal, after a successful consent too', async () => {
    const offsite: string[] = [];
    for (const returnTo of REDIRECT_PAYLOADS) {
      const start = await browser.portal.post(`/api/app-profiles/${profileId}/reauthorize`, { account: 'current', returnTo });
      expect(start.status).toBe(200);
      const outcome = await browser.roundTrip(start.body.authorizationUrl, { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
      expect(outcome.result).toBe('reauthorized');
      if (!sameOrigin(outcome.location, portal.url)) offsite.push(`${JSON.stringify(returnTo)} -> ${outcome.location}`);
    }
    expect(offsite).toEqual([]);
  });

  it("still returns to the portal's own page that asked for it", async () => {
    const returnTo = '/settings/users?add=1';
    const start = await browser.portal.post(`/api/app-profiles/${profileId}/reauthorize`, { account: 'current', returnTo });
    const outcome = await browser.roundTrip(start.body.authorizationUrl, { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
    expect(outcome.location).toBe(`/settings/users?add=1&result=reauthorized&profileId=${profileId}`);
  });
});

describe.each(testEngines())('round-trip binding cookie on %s', (engine) => {
  let portal: TestPortal;
  beforeAll(async () => {
    portal = await startTestPortal(engine);
  });
  afterAll(async () => {
    await portal?.close();
  });

  it('does not honour a callback in a browser whose tg_oauth value was planted (issue 8, item 9)', async () => {
    const partner = await signUpPartner(portal.url);
    const browser = new AdminBrowser(partner.client);
    // A value chosen by someone else, planted in the administrator's browser before the round trip starts.
    const planted = 'P'.repeat(43);
    partner.client.jar.set('tg_oauth', planted);
    const start = await partner.client.post('/api/app-profiles', { name: 'Planted', cloud: 'global' });
    expect(start.status).toBe(201);
    expect(partner.client.jar.get('tg_oauth')).not.toBe(planted);
    // Whoever planted the value cannot finish a round trip bound to it: the callback sees a foreign state.
    partner.client.jar.set('tg_oauth', planted);
    const outcome = await browser.roundTrip(start.body.authorizationUrl, { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
    expect(outcome).toMatchObject({ result: 'error', code: 'STATE_INVALID' });
    expect((await partner.client.get('/api/app-profiles')).body.items).toEqual([]);
  });
});
