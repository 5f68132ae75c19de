import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeCode, CONTOSO, control, graphGet, REDIRECT_URI, signIn, startHarness, tokenRequest, type Harness } from './helpers';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.sandbox.close());

async function freshCode(email = 'admin@contoso.com') {
  const { callback, verifier } = await authorizeCode(h, { actions: { email } });
  return { code: callback.searchParams.get('code')!, verifier };
}

function expectAadError(result: { status: number; body: Record<string, unknown> }, status: number, error: string, code: number) {
  expect(result.status).toBe(status);
  expect(result.body.error).toBe(error);
  expect(result.body.error_codes).toEqual([code]);
  expect(String(result.body.error_description)).toMatch(new RegExp(`^AADSTS${code}: .+\\r\\nTrace ID: [0-9a-f-]{36}\\r\\nCorrelation ID: [0-9a-f-]{36}\\r\\nTimestamp: \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ$`, 's'));
  for (const field of ['timestamp', 'trace_id', 'correlation_id', 'error_uri']) expect(result.body[field]).toEqual(expect.any(String));
}

describe('token endpoint: client authentication', () => {
  it('accepts the client secret by HTTP Basic', async () => {
    const { code, verifier } = await freshCode();
    const result = await tokenRequest(h, 'global', 'organizations', { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }, true);
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ token_type: 'Bearer', expires_in: expect.any(Number), ext_expires_in: expect.any(Number) });
  });

  it('answers 401 invalid_client AADSTS7000215 for a wrong secret', async () => {
    const { code, verifier } = await freshCode();
    const result = await tokenRequest(h, 'global', 'organizations', { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier, client_secret: 'not-the-secret' });
    expectAadError(result, 401, 'invalid_client', 7000215);
  });

  it('answers AADSTS700016 for an unknown client id', async () => {
    const result = await tokenRequest(h, 'global', 'organizations', { grant_type: 'authorization_code', code: 'x', client_id: '11111111-2222-3333-4444-555555555555' });
    expectAadError(result, 400, 'unauthorized_client', 700016);
  });

  it('answers AADSTS90002 for an unknown tenant', async () => {
    const result = await tokenRequest(h, 'global', 'no-such-tenant.example', { grant_type: 'refresh_token', refresh_token: 'x' });
    expectAadError(result, 400, 'invalid_request', 90002);
  });
});

describe('token endpoint: authorization codes', () => {
  it('redeems a code once; reuse answers AADSTS54005', async () => {
    const { code, verifier } = await freshCode();
    const form = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier };
    expect((await tokenRequest(h, 'global', 'organizations', form)).status).toBe(200);
    expectAadError(await tokenRequest(h, 'global', 'organizations', form), 400, 'invalid_grant', 54005);
  });

  it('checks the PKCE verifier: missing or wrong answers AADSTS501481', async () => {
    const { code } = await freshCode();
    expectAadError(await tokenRequest(h, 'global', 'organizations', { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI }), 400, 'invalid_grant', 501481);
    expectAadError(
      await tokenRequest(h, 'global', 'organizations', { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: 'wrong-verifier-wrong-verifier-wrong-verifier' }),
      400,
      'invalid_grant',
      501481,
    );
  });

  it('requires the same redirect_uri', async () => {
    const { code, verifier } = await freshCode();
    const result = await tokenRequest(h, 'global', 'organizations', { grant_type: 'authorization_code', code, redirect_uri: 'http://localhost:3999/other', code_verifier: verifier });
    expect(result.body.error).toBe('invalid_grant');
  });

  it('answers AADSTS70008 for a code older than 10 minutes (sandbox clock)', async () => {
    const { code, verifier } = await freshCode();
    await control(h, 'POST', '/clock', { advanceSeconds: 601 });
    expectAadError(await tokenRequest(h, 'global', 'organizations', { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }), 400, 'invalid_grant', 70008);
  });
});

describe('token endpoint: refresh tokens', () => {
  it('rotates: every refresh returns a new refresh token and a working access token', async () => {
    const first = await signIn(h, 'admin@contoso.com');
    const refreshed = await tokenRequest(h, 'global', 'organizations', { grant_type: 'refresh_token', refresh_token: first.refresh_token });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).toEqual(expect.any(String));
    expect(refreshed.body.refresh_token).not.toBe(first.refresh_token);
    expect((await graphGet(h, 'global', '/me', refreshed.body.access_token!)).status).toBe(200);
    const subset = await tokenRequest(h, 'global', CONTOSO, { grant_type: 'refresh_token', refresh_token: refreshed.body.refresh_token!, scope: 'https://graph.microsoft.com/User.Read offline_access' });
    expect(subset.status).toBe(200);
  });

  it('revoke-sessions makes refresh fail with invalid_grant AADSTS50173', async () => {
    const tokens = await signIn(h, 'diego@contoso.com', { scope: 'openid profile offline_access User.Read' });
    expect((await control(h, 'POST', `/tenants/${CONTOSO}/users/diego@contoso.com/revoke-sessions`)).status).toBe(204);
    expectAadError(await tokenRequest(h, 'global', 'organizations', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }), 400, 'invalid_grant', 50173);
  });

  it('revoke-consent makes refresh fail with AADSTS65001 and Graph answer 403 Authorization_RequestDenied', async () => {
    const app = h.sandbox.registerApp({ displayName: 'Revoked', redirectUris: [REDIRECT_URI] });
    const probe = { ...h, ...app };
    const tokens = await signIn(probe, 'admin@contoso.com');
    expect((await graphGet(probe, 'global', '/users', tokens.access_token)).status).toBe(200);
    expect((await control(h, 'POST', `/tenants/${CONTOSO}/revoke-consent`, { clientId: app.clientId })).status).toBe(204);
    expectAadError(await tokenRequest(probe, 'global', 'organizations', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }), 400, 'invalid_grant', 65001);
    const denied = await graphGet(probe, 'global', '/users', tokens.access_token);
    expect(denied.status).toBe(403);
    expect(denied.body.error!.code).toBe('Authorization_RequestDenied');
  });

  it('remove-permissions leaves those permissions out of later refreshes, which keep working (permission drift)', async () => {
    const app = h.sandbox.registerApp({ displayName: 'Drifting', redirectUris: [REDIRECT_URI] });
    const probe = { ...h, ...app };
    const tokens = await signIn(probe, 'admin@contoso.com', { scope: 'openid offline_access User.Read Domain.Read.All Group.Read.All' });
    expect(tokens.scope).toContain('Domain.Read.All');
    expect((await control(h, 'POST', `/tenants/${CONTOSO}/remove-permissions`, { clientId: app.clientId, scopes: ['Domain.Read.All'] })).status).toBe(204);
    const refreshed = await tokenRequest(probe, 'global', 'organizations', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, scope: 'offline_access User.Read Domain.Read.All Group.Read.All' });
    expect(refreshed.status).toBe(200);
    const scope = String((refreshed.body as { scope: string }).scope).split(' ');
    expect(scope).toEqual(expect.arrayContaining(['User.Read', 'Group.Read.All']));
    expect(scope).not.toContain('Domain.Read.All');
  });

  it('a refresh token unused for 90 days fails with AADSTS700082; the access token has expired too', async () => {
    const tokens = await signIn(h, 'megan@contoso.com');
    await control(h, 'POST', '/clock', { advanceSeconds: 90 * 24 * 3600 + 60 });
    expectAadError(await tokenRequest(h, 'global', 'organizations', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }), 400, 'invalid_grant', 700082);
    const expired = await graphGet(h, 'global', '/me', tokens.access_token);
    expect(expired.status).toBe(401);
    expect(expired.body.error!.code).toBe('InvalidAuthenticationToken');
  });

  it('a refresh token used within 90 days keeps working on the sandbox clock', async () => {
    const tokens = await signIn(h, 'megan@contoso.com');
    await control(h, 'POST', '/clock', { advanceSeconds: 80 * 24 * 3600 });
    const refreshed = await tokenRequest(h, 'global', 'organizations', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    expect(refreshed.status).toBe(200);
    await control(h, 'POST', '/clock', { advanceSeconds: 80 * 24 * 3600 });
    expect((await tokenRequest(h, 'global', 'organizations', { grant_type: 'refresh_token', refresh_token: refreshed.body.refresh_token! })).status).toBe(200);
  });
});
