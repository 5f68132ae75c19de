import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, signUpPartner } from '../../support/api-client';
import { testEngines } from '../../support/engines';
import { AdminBrowser, CONTOSO as CONTOSO_TENANT, SAMPLE_PASSWORD } from '../../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../../support/portal';
import { SandboxUserAgent } from '../../support/sandbox-user-agent';
import { CONTOSO, control, decodeJwtPayload, graphGet, signIn, startHarness, type Harness } from './helpers';

const header = (token: string) => JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()) as { alg: string; kid?: string };

describe('sandbox fault tools', () => {
  let h: Harness;
  let token: string;
  beforeAll(async () => {
    h = await startHarness();
    token = (await signIn(h, 'admin@contoso.com')).access_token;
  });
  afterAll(async () => {
    await h?.sandbox.close();
  });

  it('Graph "reset" drops the connection without an answer, then serves again', async () => {
    expect((await control(h, 'POST', '/faults', { tenantId: CONTOSO, reset: true, requests: 1 })).status).toBe(204);
    await expect(graphGet(h, 'global', '/me', token)).rejects.toThrow();
    expect((await graphGet(h, 'global', '/me', token)).status).toBe(200);
  });

  it('Graph "delayMs" answers late (alone, or with a status)', async () => {
    await control(h, 'POST', '/faults', { tenantId: CONTOSO, delayMs: 700, requests: 1 });
    let started = Date.now();
    expect((await graphGet(h, 'global', '/me', token)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(650);
    await control(h, 'POST', '/faults', { tenantId: CONTOSO, delayMs: 500, status: 503, requests: 1 });
    started = Date.now();
    expect((await graphGet(h, 'global', '/me', token)).status).toBe(503);
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    started = Date.now();
    expect((await graphGet(h, 'global', '/me', token)).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(450);
  });

  it('refuses a fault that does nothing, and reset on the token endpoint', async () => {
    expect((await control(h, 'POST', '/faults', { tenantId: CONTOSO, target: 'token', reset: true })).status).toBe(400);
    expect((await control(h, 'POST', '/faults', { tenantId: CONTOSO })).status).toBe(400);
    expect((await control(h, 'POST', '/faults', { target: 'id_token', tamper: 'sideways' })).status).toBe(400);
  });

  it.each([
    ['aud', (claims: Record<string, unknown>) => expect(claims.aud).not.toBe(h.clientId)],
    ['iss', (claims: Record<string, unknown>) => expect(claims.iss).not.toBe(`${h.sandbox.clouds.global.login}/${CONTOSO}/v2.0`)],
    ['nonce', (claims: Record<string, unknown>) => expect(claims.nonce).not.toBe('n-1')],
    ['exp', (claims: Record<string, unknown>) => expect(Number(claims.exp)).toBeLessThan(Date.now() / 1000)],
    ['alg-none', (_claims: Record<string, unknown>, token: string) => expect([header(token).alg, token.endsWith('.')]).toEqual(['none', true])],
    ['hs256', (_claims: Record<string, unknown>, token: string) => expect(header(token).alg).toBe('HS256')],
  ])('"tamper": "%s" breaks the next ID token, and only that one', async (tamper, check) => {
    await control(h, 'POST', '/faults', { target: 'id_token', tamper });
    const broken = (await signIn(h, 'admin@contoso.com')).id_token!;
    check(decodeJwtPayload(broken), broken);
    const next = (await signIn(h, 'admin@contoso.com')).id_token!;
    expect(decodeJwtPayload(next)).toMatchObject({ aud: h.clientId, nonce: 'n-1', iss: `${h.sandbox.clouds.global.login}/${CONTOSO}/v2.0` });
    expect(header(next).alg).toBe('RS256');
  });

  it('"kid" and "other-cloud-key" sign with a key the cloud does not publish', async () => {
    const published = async (cloud: 'global' | 'usgov') => ((await (await fetch(`${h.sandbox.clouds[cloud].login}/common/discovery/v2.0/keys`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    await control(h, 'POST', '/faults', { target: 'id_token', tamper: 'kid' });
    expect(await published('global')).not.toContain(header((await signIn(h, 'admin@contoso.com')).id_token!).kid);
    await control(h, 'POST', '/faults', { target: 'id_token', tamper: 'other-cloud-key', tenantId: CONTOSO });
    const kid = header((await signIn(h, 'admin@contoso.com')).id_token!).kid;
    expect(await published('global')).not.toContain(kid);
    expect(await published('usgov')).toContain(kid);
  });
});

describe.each(testEngines())('the portal refuses tampered ID tokens on %s', (engine) => {
  let portal: TestPortal;
  beforeAll(async () => {
    portal = await startTestPortal(engine);
  });
  afterAll(async () => {
    await portal?.close();
  });

  it.each(['aud', 'iss', 'nonce', 'exp', 'alg-none', 'hs256', 'kid', 'other-cloud-key'])('"%s": the callback refuses, nothing is stored', async (tamper) => {
    const { client } = await signUpPartner(portal.url);
    const fault = await fetch(`${portal.sandbox!.baseUrl}/_sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ target: 'id_token', tamper }) });
    expect(fault.status).toBe(204);
    const outcome = await new AdminBrowser(client).createProfile('Tampered', { email: CONTOSO_TENANT.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
    expect([outcome.result, outcome.profileId]).toEqual(['error', null]);
    expect((await client.get('/api/app-profiles')).body.items).toEqual([]);
  });
});

describe('single sign-on refuses tampered ID tokens', () => {
  let portal: TestPortal;
  beforeAll(async () => {
    portal = await startTestPortal('sqlite');
  });
  afterAll(async () => {
    await portal?.close();
  });

  it('for every tamper: no session, and the same person signs in once the token is sound', async () => {
    const { client } = await signUpPartner(portal.url);
    const created = await new AdminBrowser(client).createProfile('Contoso', { email: CONTOSO_TENANT.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
    expect((await client.post('/api/users', { signInType: 'microsoft365', emails: [CONTOSO_TENANT.user], appProfileId: created.profileId, role: 'member' })).status).toBe(200);
    const signInAs = async (email: string) => {
      const person = new ApiClient(portal.url);
      const start = await person.get(`/auth/microsoft/sign-in?email=${encodeURIComponent(email)}`);
      const redirect = await new SandboxUserAgent().authorize(new URL(start.headers.get('location')!), { email, password: SAMPLE_PASSWORD });
      const callback = await person.get(`${redirect.pathname}${redirect.search}`);
      return { location: callback.headers.get('location'), session: (await person.get('/api/session')).status, cookie: person.jar.get('tg_session') };
    };
    for (const tamper of ['aud', 'iss', 'nonce', 'exp', 'alg-none', 'hs256', 'kid', 'other-cloud-key']) {
      await fetch(`${portal.sandbox!.baseUrl}/_sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ target: 'id_token', tamper }) });
      const refused = await signInAs(CONTOSO_TENANT.user);
      expect(refused.location, tamper).not.toBe('/');
      expect(refused.session, tamper).toBe(401);
      expect(refused.cookie, tamper).toBeFalsy();
    }
    expect(await signInAs(CONTOSO_TENANT.user)).toMatchObject({ location: '/', session: 200 });
  });
});
