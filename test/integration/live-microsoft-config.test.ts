import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPortal, type TestPortal } from '../support/portal';

describe('a portal configured for Microsoft (no sandbox)', () => {
  let portal: TestPortal;
  beforeAll(async () => {
    portal = await startTestPortal('sqlite', {
      MICROSOFT_CLIENT_ID: '11111111-2222-4333-8444-555555555555',
      MICROSOFT_CLIENT_SECRET: 'not-a-real-secret',
      MICROSOFT_USGOV_CLIENT_ID: '66666666-7777-4888-9999-000000000000',
      MICROSOFT_USGOV_CLIENT_SECRET: 'not-a-real-secret-either',
      TENANTGATE_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      TENANTGATE_DATA_CENTER: 'us-gov-virginia',
      PUBLIC_URL: 'https://portal.example.com',
    });
  });
  afterAll(async () => {
    await portal?.close();
  });

  it('starts no sandbox and sends administrators to Microsoft’s own sign-in, per cloud', async () => {
    expect(portal.sandbox).toBeUndefined();
    expect(await portal.app.inject({ method: 'GET', url: '/api/sandbox' }).then((r) => r.json())).toEqual({ enabled: false });
    // PUBLIC_URL is https, so cookies are Secure: talk to the app in-process.
    const signup = await portal.app.inject({ method: 'POST', url: '/api/signup', payload: { organizationName: 'Live', email: `live${Date.now()}@example.test`, password: 'copper-meadow-sailing-7' } });
    expect(signup.statusCode).toBe(201);
    expect(signup.headers['set-cookie']).toMatch(/; Secure/i);
    const cookie = String(signup.headers['set-cookie']).split(';')[0];
    const csrf = signup.json().csrfToken as string;
    const start = async (cloud: string) =>
      new URL((await portal.app.inject({ method: 'POST', url: '/api/app-profiles', headers: { cookie, 'x-csrf-token': csrf }, payload: { name: `Live ${cloud}`, cloud } })).json().authorizationUrl);
    const global = await start('global');
    expect(`${global.origin}${global.pathname}`).toBe('https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize');
    expect(global.searchParams.get('client_id')).toBe('11111111-2222-4333-8444-555555555555');
    expect(global.searchParams.get('redirect_uri')).toBe('https://portal.example.com/auth/microsoft/callback');
    const usgov = await start('usgov');
    expect(`${usgov.origin}${usgov.pathname}`).toBe('https://login.microsoftonline.us/organizations/oauth2/v2.0/authorize');
    expect(usgov.searchParams.get('client_id')).toBe('66666666-7777-4888-9999-000000000000');
  });
});

describe('a portal configured for Microsoft 365 operated by 21Vianet as well', () => {
  let portal: TestPortal;
  beforeAll(async () => {
    portal = await startTestPortal('sqlite', {
      MICROSOFT_CLIENT_ID: '11111111-2222-4333-8444-555555555555',
      MICROSOFT_CLIENT_SECRET: 'not-a-real-secret',
      MICROSOFT_CHINA_CLIENT_ID: '77777777-8888-4999-aaaa-bbbbbbbbbbbb',
      MICROSOFT_CHINA_CLIENT_SECRET: 'not-a-real-china-secret',
      TENANTGATE_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      PUBLIC_URL: 'https://portal.example.com',
    });
  });
  afterAll(async () => {
    await portal?.close();
  });

  it('offers the China cloud where its app registration is configured, and signs in at its own host', async () => {
    const signup = await portal.app.inject({ method: 'POST', url: '/api/signup', payload: { organizationName: 'Live CN', email: `livecn${Date.now()}@example.test`, password: 'copper-meadow-sailing-7' } });
    const cookie = String(signup.headers['set-cookie']).split(';')[0];
    const csrf = signup.json().csrfToken as string;
    const clouds = await portal.app.inject({ method: 'GET', url: '/api/app-profiles/clouds', headers: { cookie } });
    expect(clouds.json().clouds.map((c: { id: string }) => c.id)).toEqual(['global', 'china']);
    const start = await portal.app.inject({ method: 'POST', url: '/api/app-profiles', headers: { cookie, 'x-csrf-token': csrf }, payload: { name: 'Litware', cloud: 'china' } });
    const url = new URL(start.json().authorizationUrl);
    expect(`${url.origin}${url.pathname}`).toBe('https://login.partner.microsoftonline.cn/organizations/oauth2/v2.0/authorize');
    expect(url.searchParams.get('client_id')).toBe('77777777-8888-4999-aaaa-bbbbbbbbbbbb');
  });
});
