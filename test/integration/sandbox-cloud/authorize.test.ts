import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxPageError, SandboxUserAgent } from '../../support/sandbox-user-agent';
import {
  ADMIN_SCOPES,
  authorizeCode,
  authorizeUrl,
  CONTOSO,
  decodeJwtPayload,
  FABRIKAM,
  NORTHWIND,
  PASSWORD,
  pkce,
  POST_LOGOUT_URI,
  REDIRECT_URI,
  startHarness,
  type Harness,
} from './helpers';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.sandbox.close());

describe('authorize with openid-client (tenant-specific metadata)', () => {
  it('runs the code flow with PKCE, state and nonce and returns Entra-shaped tokens', async () => {
    const config = await oidc.discovery(new URL(`${h.sandbox.clouds.global.login}/${CONTOSO}/v2.0`), h.clientId, h.clientSecret, undefined, {
      execute: [oidc.allowInsecureRequests],
    });
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: ADMIN_SCOPES,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    const ua = new SandboxUserAgent();
    const callback = await ua.authorize(url.href, { email: 'admin@contoso.com', password: PASSWORD, consent: 'accept' });
    expect(ua.visited).toEqual(['Sign in', 'Permissions requested']);
    expect(callback.searchParams.get('state')).toBe(state);
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ tid: CONTOSO, oid: 'a1a1a1a1-0001-4000-8000-000000000001', preferred_username: 'admin@contoso.com', ver: '2.0' });
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.refresh_token).toEqual(expect.any(String));
    expect(String(tokens.scope).split(' ')).toEqual(expect.arrayContaining(['User.Read.All', 'Group.Read.All', 'openid', 'offline_access']));
    const access = decodeJwtPayload(tokens.access_token);
    expect(access).toMatchObject({ aud: h.sandbox.clouds.global.graph, tid: CONTOSO, oid: claims.oid, appid: h.clientId });
    expect(String(access.scp).split(' ')).toEqual(expect.arrayContaining(['User.Read', 'User.Read.All', 'Domain.Read.All']));
    expect(JSON.parse(Buffer.from(String(tokens.client_info), 'base64url').toString())).toEqual({ uid: claims.oid, utid: CONTOSO });
  });
});

describe('sign-in page', () => {
  it('has labelled Email and Password fields and a Sign in button', async () => {
    const { challenge } = pkce();
    const res = await fetch(authorizeUrl(h, 'global', 'organizations', { code_challenge: challenge }));
    const html = await res.text();
    expect(html).toContain('<h1>Sign in</h1>');
    expect(html).toMatch(/<label for="email">Email<\/label>\s*<input type="email" id="email"/);
    expect(html).toMatch(/<label for="password">Password<\/label>\s*<input type="password" id="password"/);
    expect(html).toMatch(/<button type="submit">Sign in<\/button>/);
    expect(html).toMatch(/<input type="hidden" name="flow" value="[\w-]{20,}">/);
  });

  it('refuses a wrong password and an unknown account with the same message (AADSTS50126)', async () => {
    for (const email of ['alex@contoso.com', 'nobody@contoso.com', 'grace@fabrikamgov.us']) {
      const error = await authorizeCode(h, { actions: { email, password: 'wrong' } }).catch((e) => e);
      expect(error).toBeInstanceOf(SandboxPageError);
      expect(error.message).toContain('Your account or password is incorrect.');
      expect(error.code).toBe('AADSTS50126');
    }
  });

  it('refuses a disabled account (AADSTS50057)', async () => {
    const error = await authorizeCode(h, { actions: { email: 'disabled@contoso.com' } }).catch((e) => e);
    expect(error).toBeInstanceOf(SandboxPageError);
    expect(error.code).toBe('AADSTS50057');
  });

  it('finds the tenant from the UPN domain on organizations and refuses an account of another tenant on a tenant URL', async () => {
    const { callback } = await authorizeCode(h, { actions: { email: 'admin@northwind.com' } });
    expect(callback.searchParams.get('code')).toBeTruthy();
    const error = await authorizeCode(h, { tenant: NORTHWIND, actions: { email: 'admin@contoso.com' } }).catch((e) => e);
    expect(error.code).toBe('AADSTS50126');
  });

  it('escapes what it echoes', async () => {
    const { challenge } = pkce();
    const html = await (await fetch(authorizeUrl(h, 'global', 'organizations', { code_challenge: challenge, login_hint: '"><script>alert(1)</script>' }))).text();
    expect(html).not.toContain('<script>');
    expect(html).toContain('&quot;&gt;&lt;script&gt;');
  });
});

describe('authorize request errors', () => {
  it('shows AADSTS90002 for an unknown tenant, 700016 for an unknown client and 50011 for an unregistered redirect URI, never redirecting', async () => {
    const { challenge } = pkce();
    const cases: [string, string][] = [
      [authorizeUrl(h, 'global', 'nosuch.example', { code_challenge: challenge }), 'AADSTS90002'],
      [authorizeUrl(h, 'global', 'organizations', { code_challenge: challenge, client_id: '00000000-0000-0000-0000-000000000000' }), 'AADSTS700016'],
      [authorizeUrl(h, 'global', 'organizations', { code_challenge: challenge, redirect_uri: 'http://evil.example/cb' }), 'AADSTS50011'],
      [authorizeUrl(h, 'global', 'organizations', { code_challenge: challenge, redirect_uri: `${REDIRECT_URI}/` }), 'AADSTS50011'],
    ];
    for (const [url, code] of cases) {
      const res = await fetch(url, { redirect: 'manual' });
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(await res.text()).toContain(code);
    }
  });

  it('redirects invalid_request when PKCE is missing or not S256, unsupported_response_type, invalid_scope', async () => {
    const ua = new SandboxUserAgent();
    const noPkce = await ua.authorize(authorizeUrl(h, 'global', 'organizations', {}), {});
    expect(noPkce.searchParams.get('error')).toBe('invalid_request');
    expect(noPkce.searchParams.get('state')).toBe('st-1');
    const plain = await ua.authorize(authorizeUrl(h, 'global', 'organizations', { code_challenge: 'abc', code_challenge_method: 'plain' }), {});
    expect(plain.searchParams.get('error')).toBe('invalid_request');
    const token = await ua.authorize(authorizeUrl(h, 'global', 'organizations', { code_challenge: 'abc', response_type: 'token' }), {});
    expect(token.searchParams.get('error')).toBe('unsupported_response_type');
    const scope = await ua.authorize(authorizeUrl(h, 'global', 'organizations', { code_challenge: 'abc', scope: 'openid Mail.Send.Everything' }), {});
    expect(scope.searchParams.get('error')).toBe('invalid_scope');
    expect(scope.searchParams.get('error_description')).toMatch(/^AADSTS70011:/);
  });
});

describe('consent', () => {
  it('shows the consent page with app, tenant and permission texts; Cancel answers access_denied AADSTS65004', async () => {
    const app = h.sandbox.registerApp({ displayName: 'Consent <Probe> & Co', redirectUris: [REDIRECT_URI] });
    const probe = { ...h, ...app };
    const ua = new SandboxUserAgent();
    const callback = await authorizeCode(probe, { tenant: NORTHWIND, ua, actions: { email: 'admin@northwind.com', consent: 'cancel' } }).then((r) => r.callback);
    const html = ua.lastPage!.html;
    expect(ua.lastPage!.heading).toBe('Permissions requested');
    expect(html).toContain('Consent &lt;Probe&gt; &amp; Co');
    expect(html).toContain('Northwind Traders');
    for (const text of ["Read all users&#39; full profiles", 'Read all groups', 'Read group memberships', 'Read organization information', 'Read domains', 'Sign in and read user profile', 'Maintain access to data you have given it access to']) {
      expect(html).toContain(text);
    }
    expect(html).toMatch(/<button[^>]*value="accept">Accept<\/button>/);
    expect(html).toMatch(/<button[^>]*value="cancel">Cancel<\/button>/);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('error_description')).toMatch(/^AADSTS65004:/);
    expect(callback.searchParams.get('state')).toBe('st-1');
  });

  it('records an administrator consent for the whole tenant; it persists across sign-ins', async () => {
    const app = h.sandbox.registerApp({ displayName: 'Tenant-wide', redirectUris: [REDIRECT_URI] });
    const probe = { ...h, ...app };
    const first = await authorizeCode(probe, { tenant: 'organizations', actions: { email: 'admin@contoso.com' } });
    expect(first.ua.visited).toContain('Permissions requested');
    // Another user of the tenant, even a non-admin, needs no consent now.
    const second = await authorizeCode(probe, { actions: { email: 'alex@contoso.com' } });
    expect(second.ua.visited).toEqual(['Sign in']);
    expect(second.callback.searchParams.get('code')).toBeTruthy();
  });

  it('shows "Need admin approval" (AADSTS90094) to a non-administrator asked for admin-only permissions', async () => {
    const app = h.sandbox.registerApp({ displayName: 'Needs admin', redirectUris: [REDIRECT_URI] });
    const probe = { ...h, ...app };
    const { callback, ua } = await authorizeCode(probe, { actions: { email: 'nora@northwind.com' } });
    expect(ua.visited).toEqual(['Sign in', 'Need admin approval']);
    expect(ua.lastPage!.html).toContain('AADSTS90094');
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('error_description')).toMatch(/^AADSTS90094:/);
  });

  it('lets a non-administrator consent for themselves to non-admin scopes', async () => {
    const app = h.sandbox.registerApp({ displayName: 'Self consent', redirectUris: [REDIRECT_URI] });
    const probe = { ...h, ...app };
    const { callback, ua } = await authorizeCode(probe, { params: { scope: 'openid profile offline_access User.Read' }, actions: { email: 'nora@northwind.com' } });
    expect(ua.visited).toEqual(['Sign in', 'Permissions requested']);
    expect(ua.lastPage!.html).toContain('Sign in and read user profile');
    expect(ua.lastPage!.html).not.toContain('Read all groups');
    expect(callback.searchParams.get('code')).toBeTruthy();
  });
});

describe('browser session: prompt, login_hint, account picker, logout', () => {
  it('prompt=none without a session answers login_required (AADSTS50058)', async () => {
    const { callback } = await authorizeCode(h, { params: { prompt: 'none' }, actions: {} });
    expect(callback.searchParams.get('error')).toBe('login_required');
    expect(callback.searchParams.get('error_description')).toMatch(/^AADSTS50058:/);
  });

  it('prompt=none with a session but no consent answers consent_required (AADSTS65001); with consent, a code', async () => {
    const ua = new SandboxUserAgent();
    await authorizeCode(h, { ua, actions: { email: 'megan@contoso.com' } });
    const app = h.sandbox.registerApp({ displayName: 'Silent', redirectUris: [REDIRECT_URI] });
    const silent = await authorizeCode({ ...h, ...app }, { ua, params: { prompt: 'none' }, actions: {} });
    expect(silent.callback.searchParams.get('error')).toBe('consent_required');
    expect(silent.callback.searchParams.get('error_description')).toMatch(/^AADSTS65001:/);
    const again = await authorizeCode(h, { ua, params: { prompt: 'none' }, actions: {} });
    expect(again.callback.searchParams.get('code')).toBeTruthy();
  });

  it('shows the account picker with the signed-in accounts and "Use another account"', async () => {
    const ua = new SandboxUserAgent();
    await authorizeCode(h, { ua, actions: { email: 'admin@contoso.com' } });
    const picked = await authorizeCode(h, { ua, params: { prompt: 'select_account' }, actions: { pickAccount: 'admin@contoso.com' } });
    expect(ua.visited).toEqual(['Pick an account']);
    expect(picked.callback.searchParams.get('code')).toBeTruthy();
    expect(ua.lastPage!.html).toMatch(/<button[^>]*aria-label="Contoso Admin admin@contoso.com"/);
    expect(ua.lastPage!.html).toContain('Use another account');
    const another = await authorizeCode(h, { ua, params: { prompt: 'select_account' }, actions: { pickAccount: 'another', email: 'diego@contoso.com' } });
    expect(ua.visited).toEqual(['Pick an account', 'Sign in']);
    expect(another.callback.searchParams.get('code')).toBeTruthy();
  });

  it('login_hint of the session account with prompt=consent goes straight to consent; prompt=login asks for credentials', async () => {
    const ua = new SandboxUserAgent();
    await authorizeCode(h, { ua, actions: { email: 'admin@contoso.com' } });
    const reconsent = await authorizeCode(h, { ua, params: { prompt: 'consent', login_hint: 'admin@contoso.com' }, actions: {} });
    expect(ua.visited).toEqual(['Permissions requested']);
    expect(reconsent.callback.searchParams.get('code')).toBeTruthy();
    await authorizeCode(h, { ua, params: { prompt: 'login' }, actions: { email: 'admin@contoso.com' } });
    expect(ua.visited).toEqual(['Sign in']);
  });

  it('logout ends the session and redirects only to a registered post_logout_redirect_uri', async () => {
    const ua = new SandboxUserAgent();
    await authorizeCode(h, { ua, actions: { email: 'adele@contoso.com', consent: 'accept' } });
    const { login } = h.sandbox.clouds.global;
    const target = await ua.logout(`${login}/organizations/oauth2/v2.0/logout?post_logout_redirect_uri=${encodeURIComponent(POST_LOGOUT_URI)}&state=bye`);
    expect(target.toString()).toBe(`${POST_LOGOUT_URI}?state=bye`);
    const silent = await authorizeCode(h, { ua, params: { prompt: 'none' }, actions: {} });
    expect(silent.callback.searchParams.get('error')).toBe('login_required');
    const page = await ua.logout(`${login}/organizations/oauth2/v2.0/logout?post_logout_redirect_uri=${encodeURIComponent('http://evil.example/')}`);
    expect(page.origin).toBe(h.sandbox.baseUrl);
    expect(ua.lastPage!.heading).toContain('You signed out');
  });

  it('keeps clouds apart: a usgov account signs in on usgov only', async () => {
    const { callback } = await authorizeCode(h, { cloud: 'usgov', actions: { email: 'grace@fabrikamgov.us' }, params: { scope: 'openid profile offline_access User.Read' } });
    expect(callback.searchParams.get('code')).toBeTruthy();
    const error = await authorizeCode(h, { cloud: 'usgov', tenant: FABRIKAM, actions: { email: 'admin@contoso.com' } }).catch((e) => e);
    expect(error.code).toBe('AADSTS50126');
  });
});
