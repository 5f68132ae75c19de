import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpPartner } from '../../support/api-client';
import { testEngines } from '../../support/engines';
import { AdminBrowser, CONTOSO, SAMPLE_PASSWORD } from '../../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../../support/portal';
import { control, decodeJwtPayload, graphGet, signIn, startHarness, type Harness } from './helpers';

/**
 * The 90-day lapse end to end: the sandbox clock moves 91 days, the refresh token lapses (AADSTS700082), and
 * re-authorizing with the current account works, because the tokens issued afterwards carry true times that a
 * portal with a correct clock accepts.
 */
describe.each(testEngines())('the 90-day lapse through the sandbox clock on %s', (engine) => {
  let portal: TestPortal;
  beforeAll(async () => {
    portal = await startTestPortal(engine);
  });
  afterAll(async () => {
    await portal?.close();
  });

  it('unused for 91 days → expired (AADSTS700082) → re-authorize with the current account → Active', async () => {
    const { client } = await signUpPartner(portal.url);
    const browser = new AdminBrowser(client);
    const created = await browser.createProfile('Idle tenant', { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
    expect(created.result, created.location).toBe('created');
    const id = created.profileId!;

    const advanced = await fetch(`${portal.sandbox!.baseUrl}/_sandbox/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ advanceSeconds: 91 * 86400 }) });
    expect(advanced.status).toBe(200);

    const checked = await client.post(`/api/app-profiles/${id}/check`);
    expect(checked.body).toMatchObject({ status: 'authorization_expired', statusReason: { code: 'AADSTS700082' } });

    const again = await browser.reauthorize(id, 'current', { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
    expect(again, again.location).toMatchObject({ result: 'reauthorized', code: null });
    expect((await client.get(`/api/app-profiles/${id}`)).body).toMatchObject({ status: 'active', statusReason: null });
    expect((await client.post(`/api/app-profiles/${id}/check`)).body).toMatchObject({ status: 'active' });
  });
});

describe('tokens issued after POST /_sandbox/clock', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.sandbox.close();
  });

  it('carry true iat/nbf/exp/auth_time, while lifetimes run on the sandbox clock', async () => {
    const before = await signIn(h, 'admin@contoso.com');
    expect((await control(h, 'POST', '/clock', { advanceSeconds: 2 * 3600 })).status).toBe(200);
    // Two hours later on the sandbox clock: the earlier access token has expired.
    expect((await graphGet(h, 'global', '/me', before.access_token)).status).toBe(401);
    const after = await signIn(h, 'admin@contoso.com');
    const nowSeconds = Date.now() / 1000;
    for (const token of [after.access_token, after.id_token!]) {
      const claims = decodeJwtPayload(token) as { iat: number; nbf: number; exp: number };
      expect(Math.abs(claims.iat - nowSeconds)).toBeLessThan(60);
      expect(Math.abs(claims.nbf - nowSeconds)).toBeLessThan(60);
      expect(claims.exp - claims.iat).toBeGreaterThanOrEqual(3599);
    }
    expect(Math.abs(Number(decodeJwtPayload(after.id_token!).auth_time) - nowSeconds)).toBeLessThan(60);
    expect((await graphGet(h, 'global', '/me', after.access_token)).status).toBe(200);
  });
});
