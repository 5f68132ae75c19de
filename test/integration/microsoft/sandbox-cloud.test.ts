/**
 * The Microsoft client library (oauth.ts, graph.ts) against the sandbox cloud, end to end: the same code that
 * talks to login.microsoftonline.com and graph.microsoft.com, pointed at the sandbox's base URLs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandboxCloud } from '../../../src/sandbox-cloud/index';
import { SandboxUserAgent } from '../../support/sandbox-user-agent';
import { errorExpiresAuthorization, statusReasonFor } from '../../../src/server/microsoft/aadsts';
import type { Cloud, CloudEndpoints } from '../../../src/server/microsoft/clouds';
import { IdTokenValidationError, MicrosoftTokenError } from '../../../src/server/microsoft/errors';
import { GraphError, createGraphClient } from '../../../src/server/microsoft/graph';
import {
  createMicrosoftOAuth,
  readAuthorizationResponse,
  type MicrosoftOAuth,
  type RedeemedTokenSet,
} from '../../../src/server/microsoft/oauth';
import { APP_PROFILE_SCOPES, SSO_SCOPES, missingPermissions } from '../../../src/server/microsoft/permissions';

const CONTOSO = '4f6d1d0e-1c2b-4d9a-9a55-0b7c3e1f2a10';
const FABRIKAM = '2b8f4c3a-6e1d-4a7b-8c9d-0e1f2a3b4c5d';
const PASSWORD = 'Passw0rd!';
const REDIRECT_URI = 'http://localhost:3000/auth/microsoft/callback';
const SIGNED_OUT_URI = 'http://localhost:3000/auth/microsoft/signed-out';
const SALES = 'c1c1c1c1-0001-4000-8000-000000000001';
const SALES_EMEA = 'c1c1c1c1-0002-4000-8000-000000000002';
const SUPPORT = 'c1c1c1c1-0003-4000-8000-000000000003';

type Sandbox = Awaited<ReturnType<typeof startSandboxCloud>>;

interface Harness {
  sandbox: Sandbox;
  oauth: MicrosoftOAuth;
  endpoints: Record<Cloud, CloudEndpoints>;
  clientId: string;
  clientSecret: string;
}

async function harness(): Promise<Harness> {
  const sandbox = await startSandboxCloud({ port: 0 });
  const app = await sandbox.registerApp({
    displayName: 'Tenantgate - User Management (test)',
    redirectUris: [REDIRECT_URI],
    postLogoutRedirectUris: [SIGNED_OUT_URI],
  });
  const endpoints = {
    global: { login: sandbox.clouds.global.login, graph: sandbox.clouds.global.graph },
    usgov: { login: sandbox.clouds.usgov.login, graph: sandbox.clouds.usgov.graph },
    china: { login: sandbox.clouds.china.login, graph: sandbox.clouds.china.graph },
  };
  const oauth = createMicrosoftOAuth({
    endpoints,
    clientId: { global: app.clientId, usgov: app.clientId, china: app.clientId },
    clientSecret: { global: app.clientSecret, usgov: app.clientSecret, china: app.clientSecret },
    redirectUri: REDIRECT_URI,
  });
  return { sandbox, oauth, endpoints, clientId: app.clientId, clientSecret: app.clientSecret };
}

async function control(h: Harness, path: string, body: unknown = {}): Promise<void> {
  const res = await fetch(`${h.sandbox.baseUrl}/_sandbox${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status, `POST /_sandbox${path}`).toBeLessThan(300);
}

/** Runs the browser part of the authorization-code flow and returns the redirect's query. */
async function authorize(
  h: Harness,
  cloud: Cloud,
  email: string,
  scopes: readonly string[],
  extra: { prompt?: 'consent' | 'login'; consent?: 'accept' | 'cancel' } = {},
) {
  const req = h.oauth.newAuthorizationRequest();
  const url = h.oauth.authorizationUrl(cloud, { scopes, ...req, loginHint: email, ...(extra.prompt ? { prompt: extra.prompt } : {}) });
  const final = new URL(String(await new SandboxUserAgent().authorize(url, { email, password: PASSWORD, consent: extra.consent ?? 'accept' })));
  return { req, final, params: final.searchParams };
}

async function signIn(h: Harness, cloud: Cloud, email: string, scopes: readonly string[] = APP_PROFILE_SCOPES): Promise<RedeemedTokenSet> {
  const { req, final, params } = await authorize(h, cloud, email, scopes);
  expect(`${final.origin}${final.pathname}`).toBe(REDIRECT_URI);
  expect(params.get('error'), params.get('error_description') ?? '').toBeNull();
  const { code } = readAuthorizationResponse(params, req.state);
  return h.oauth.redeemCode(cloud, { code, codeVerifier: req.codeVerifier, nonce: req.nonce, scopes });
}

function graphFor(h: Harness, cloud: Cloud, accessToken: string, opts: Partial<Parameters<typeof createGraphClient>[0]> = {}) {
  return createGraphClient({ graphBase: h.endpoints[cloud].graph, accessToken: () => accessToken, ...opts });
}

describe('Microsoft client against the sandbox cloud', () => {
  let h: Harness;
  let admin: RedeemedTokenSet;

  beforeAll(async () => {
    h = await harness();
    admin = await signIn(h, 'global', 'admin@contoso.com');
  });
  afterAll(async () => {
    await h?.sandbox.close();
  });

  it('redeems the code and validates the ID token of a Global Administrator', () => {
    expect(admin.idToken.tid).toBe(CONTOSO);
    expect(admin.idToken.oid).toMatch(/^[0-9a-f-]{36}$/);
    expect(admin.idToken.preferredUsername).toBe('admin@contoso.com');
    expect(admin.accessToken.length).toBeGreaterThan(10);
    expect(admin.refreshToken).toBeTruthy();
    expect(admin.accessTokenExpiresAt.getTime()).toBeGreaterThan(Date.now());
    expect(missingPermissions(admin.grantedScopes)).toEqual([]);
  });

  it('signs a portal user in with the SSO scopes only', async () => {
    const set = await signIn(h, 'global', 'alex@contoso.com', SSO_SCOPES);
    expect(set.idToken).toMatchObject({ tid: CONTOSO, preferredUsername: 'alex@contoso.com' });
    expect(set.idToken.oid).not.toBe(admin.idToken.oid);
  });

  it('rejects the ID token when the nonce does not match', async () => {
    const { req, params } = await authorize(h, 'global', 'admin@contoso.com', APP_PROFILE_SCOPES);
    const err = await h.oauth
      .redeemCode('global', { code: params.get('code')!, codeVerifier: req.codeVerifier, nonce: 'another-nonce', scopes: APP_PROFILE_SCOPES })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IdTokenValidationError);
    expect((err as IdTokenValidationError).reason).toBe('nonce');
  });

  it('rejects a tampered ID token', async () => {
    // The same sandbox, seen through a fetch that alters one claim of the returned ID token.
    const tampering: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input instanceof Request ? input.url : input).endsWith('/oauth2/v2.0/token') || !res.ok) return res;
      const body = (await res.json()) as { id_token: string };
      const [head, payload, sig] = body.id_token.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
      claims.preferred_username = 'someone-else@contoso.com';
      body.id_token = `${head}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${sig}`;
      return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
    };
    const oauth = createMicrosoftOAuth({
      endpoints: h.endpoints,
      clientId: { global: h.clientId, usgov: h.clientId, china: h.clientId },
      clientSecret: { global: h.clientSecret, usgov: h.clientSecret, china: h.clientSecret },
      redirectUri: REDIRECT_URI,
      fetch: tampering,
    });
    const { req, params } = await authorize(h, 'global', 'admin@contoso.com', APP_PROFILE_SCOPES);
    const err = await oauth
      .redeemCode('global', { code: params.get('code')!, codeVerifier: req.codeVerifier, nonce: req.nonce, scopes: APP_PROFILE_SCOPES })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IdTokenValidationError);
    expect((err as IdTokenValidationError).reason).toBe('signature');
  });

  it('refuses a reused code (AADSTS54005) and a wrong verifier (AADSTS501481)', async () => {
    const first = await authorize(h, 'global', 'admin@contoso.com', APP_PROFILE_SCOPES);
    const redeem = (codeVerifier: string) =>
      h.oauth.redeemCode('global', { code: first.params.get('code')!, codeVerifier, nonce: first.req.nonce, scopes: APP_PROFILE_SCOPES });
    await redeem(first.req.codeVerifier);
    const reused = (await redeem(first.req.codeVerifier).catch((e: unknown) => e)) as MicrosoftTokenError;
    expect(reused).toBeInstanceOf(MicrosoftTokenError);
    expect(reused.error).toBe('invalid_grant');
    expect(reused.errorCodes).toContain(54005);

    const second = await authorize(h, 'global', 'admin@contoso.com', APP_PROFILE_SCOPES);
    const wrong = (await h.oauth
      .redeemCode('global', { code: second.params.get('code')!, codeVerifier: 'x'.repeat(43), nonce: second.req.nonce, scopes: APP_PROFILE_SCOPES })
      .catch((e: unknown) => e)) as MicrosoftTokenError;
    expect(wrong).toBeInstanceOf(MicrosoftTokenError);
    expect(wrong.errorCodes).toContain(501481);
  });

  it('refreshes with rotation, and the new access token works on Graph', async () => {
    const set = await signIn(h, 'global', 'admin@contoso.com');
    const next = await h.oauth.refresh('global', { tenantId: CONTOSO, refreshToken: set.refreshToken!, scopes: APP_PROFILE_SCOPES });
    expect(next.refreshToken).toBeTruthy();
    expect(next.refreshToken).not.toBe(set.refreshToken);
    expect(next.accessToken).not.toBe(set.accessToken);
    const me = await graphFor(h, 'global', next.accessToken).me();
    expect(me.userPrincipalName).toBe('admin@contoso.com');
    const again = await h.oauth.refresh('global', { tenantId: CONTOSO, refreshToken: next.refreshToken!, scopes: APP_PROFILE_SCOPES });
    expect(again.refreshToken).not.toBe(next.refreshToken);
  });

  it('tells a Global Administrator from an ordinary user', async () => {
    expect(await graphFor(h, 'global', admin.accessToken).isGlobalAdministrator()).toBe(true);
    const alex = await signIn(h, 'global', 'alex@contoso.com');
    expect(await graphFor(h, 'global', alex.accessToken).isGlobalAdministrator()).toBe(false);
  });

  it('reads the organization', async () => {
    expect(await graphFor(h, 'global', admin.accessToken).organization()).toEqual({
      id: CONTOSO,
      displayName: 'Contoso Ltd',
      defaultDomain: 'contoso.com',
      initialDomain: 'contoso.onmicrosoft.com',
    });
  });

  it('pages through every user following nextLinks', async () => {
    const graph = graphFor(h, 'global', admin.accessToken);
    const pages: { id: string; userPrincipalName: string }[][] = [];
    for await (const page of graph.pages<{ id: string; userPrincipalName: string }>('/users', { query: { $top: 2, $select: 'id,userPrincipalName' } })) {
      pages.push(page);
    }
    expect(pages.length).toBeGreaterThanOrEqual(3);
    expect(pages.every((p) => p.length <= 2)).toBe(true);
    const upns = pages.flat().map((u) => u.userPrincipalName);
    expect(new Set(upns).size).toBe(upns.length);
    expect(upns).toEqual(expect.arrayContaining(['admin@contoso.com', 'alex@contoso.com', 'megan@contoso.com', 'disabled@contoso.com']));
    expect(upns.some((u) => u.endsWith('@northwind.com'))).toBe(false);
  });

  it('finds users and groups by email', async () => {
    const graph = graphFor(h, 'global', admin.accessToken);
    const alex = await graph.findUser('alex@contoso.com');
    expect(alex).toMatchObject({ userPrincipalName: 'alex@contoso.com', mail: 'alex@contoso.com', accountEnabled: true });
    expect(await graph.findUser("o'nobody@contoso.com")).toBeNull();
    expect((await graph.findUser('disabled@contoso.com'))?.accountEnabled).toBe(false);
    expect(await graph.findGroupByMail('sales@contoso.com')).toMatchObject({ id: SALES, displayName: 'Sales' });
    expect(await graph.findGroupByMail('nobody@contoso.com')).toBeNull();
  });

  it('searches the directory with a cursor', async () => {
    const graph = graphFor(h, 'global', admin.accessToken);
    const first = await graph.searchDirectory('group', 'Sales', { top: 1 });
    expect(first.items).toHaveLength(1);
    expect(first.nextCursor).toBeTruthy();
    const second = await graph.searchDirectory('group', 'Sales', { top: 1, cursor: first.nextCursor });
    const names = [...first.items, ...second.items].map((g) => g.displayName).sort();
    expect(names).toEqual(['Sales', 'Sales EMEA']);
    const users = await graph.searchDirectory('user', 'alex');
    expect(users.items.map((u) => u.userPrincipalName)).toEqual(['alex@contoso.com']);
  });

  it('checks memberships, nested ones included, and lists transitive members', async () => {
    const graph = graphFor(h, 'global', admin.accessToken);
    const diego = (await graph.findUser('diego@contoso.com'))!;
    expect((await graph.checkMemberGroups(diego.id, [SALES, SALES_EMEA, SUPPORT])).sort()).toEqual([SALES, SALES_EMEA].sort());
    const ids: string[] = [];
    for await (const page of graph.transitiveMembers(SALES)) ids.push(...page.map((m) => m.id));
    const alex = (await graph.findUser('alex@contoso.com'))!;
    expect(ids).toEqual(expect.arrayContaining([alex.id, diego.id, SALES_EMEA]));
  });

  it('retries 429 answers honouring Retry-After', async () => {
    await control(h, '/throttle', { tenantId: CONTOSO, requests: 2, retryAfterSeconds: 1 });
    const sleeps: number[] = [];
    const graph = graphFor(h, 'global', admin.accessToken, {
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    expect((await graph.me()).userPrincipalName).toBe('admin@contoso.com');
    expect(sleeps).toEqual([1000, 1000]);
  });

  it('gives up on 429 after maxRetries with the Retry-After', async () => {
    await control(h, '/throttle', { tenantId: CONTOSO, requests: 3, retryAfterSeconds: 2 });
    const graph = graphFor(h, 'global', admin.accessToken, { maxRetries: 1, sleep: async () => {} });
    await expect(graph.me()).rejects.toMatchObject({ status: 429, retryAfterSeconds: 2 });
    await graphFor(h, 'global', admin.accessToken, { sleep: async () => {} }).me(); // drains the last throttled answer
  });

  it('retries 503 faults with backoff', async () => {
    await control(h, '/faults', { tenantId: CONTOSO, status: 503, requests: 2 });
    const sleeps: number[] = [];
    const graph = graphFor(h, 'global', admin.accessToken, { sleep: async (ms) => void sleeps.push(ms) });
    expect((await graph.organization()).id).toBe(CONTOSO);
    expect(sleeps).toHaveLength(2);
    expect(sleeps[1]).toBeGreaterThanOrEqual(sleeps[0]);
  });

  it('runs a delta query, then picks up a new user from the deltaLink', async () => {
    const graph = graphFor(h, 'global', admin.accessToken);
    const run = graph.delta<{ id: string; userPrincipalName?: string }>('/users/delta', { query: { $select: 'id,displayName,userPrincipalName' } });
    const first: string[] = [];
    for await (const page of run) first.push(...page.map((u) => u.userPrincipalName ?? ''));
    expect(first).toEqual(expect.arrayContaining(['admin@contoso.com', 'alex@contoso.com']));
    expect(new URL(run.deltaLink).origin).toBe(new URL(h.endpoints.global.graph).origin);

    await control(h, `/tenants/${CONTOSO}/users`, {
      userPrincipalName: 'newbie@contoso.com',
      displayName: 'New Person',
      mail: 'newbie@contoso.com',
      password: PASSWORD,
      accountEnabled: true,
    });
    const next = graph.delta<{ id: string; userPrincipalName?: string }>(run.deltaLink);
    const changed: string[] = [];
    for await (const page of next) changed.push(...page.map((u) => u.userPrincipalName ?? u.id));
    expect(changed).toContain('newbie@contoso.com');
    expect(changed).not.toContain('alex@contoso.com');
    expect(next.deltaLink).not.toBe(run.deltaLink);
  });

  it('signs out through the logout URL back to the registered page', async () => {
    const url = h.oauth.logoutUrl('global', { postLogoutRedirectUri: SIGNED_OUT_URI, logoutHint: 'admin@contoso.com' });
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBeGreaterThanOrEqual(300);
    expect(res.status).toBeLessThan(400);
    expect(new URL(res.headers.get('location')!, url).toString().startsWith(SIGNED_OUT_URI)).toBe(true);
  });

  it('keeps the clouds apart: a U.S. Government token works on its Graph only', async () => {
    const gov = await signIn(h, 'usgov', 'admin@fabrikamgov.us');
    expect(gov.idToken.tid).toBe(FABRIKAM);
    expect((await graphFor(h, 'usgov', gov.accessToken).organization()).displayName).toBe('Fabrikam Government');
    const err = await graphFor(h, 'global', gov.accessToken).me().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GraphError);
    expect((err as GraphError).status).toBe(401);
    expect((err as GraphError).code).toBe('InvalidAuthenticationToken');
  });
});

describe('authorizations that die', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });
  afterAll(async () => {
    await h?.sandbox.close();
  });

  it('reports AADSTS90094 when a non-administrator asks for admin-only permissions', async () => {
    const { req, params } = await authorize(h, 'global', 'nora@northwind.com', APP_PROFILE_SCOPES);
    let err: unknown;
    try {
      readAuthorizationResponse(params, req.state);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MicrosoftTokenError);
    expect((err as MicrosoftTokenError).error).toBe('access_denied');
    expect(statusReasonFor(err as MicrosoftTokenError).code).toBe('AADSTS90094');
  });

  it('reports AADSTS65004 when the administrator cancels consent', async () => {
    const { req, params } = await authorize(h, 'global', 'admin@contoso.com', APP_PROFILE_SCOPES, { consent: 'cancel' });
    let err: unknown;
    try {
      readAuthorizationResponse(params, req.state);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MicrosoftTokenError);
    expect((err as MicrosoftTokenError).error).toBe('access_denied');
    expect((err as MicrosoftTokenError).errorCodes).toEqual([65004]);
  });

  it('AADSTS50173 after the user’s sessions are revoked', async () => {
    const set = await signIn(h, 'global', 'admin@contoso.com');
    await control(h, `/tenants/${CONTOSO}/users/admin@contoso.com/revoke-sessions`);
    const err = (await h.oauth
      .refresh('global', { tenantId: CONTOSO, refreshToken: set.refreshToken!, scopes: APP_PROFILE_SCOPES })
      .catch((e: unknown) => e)) as MicrosoftTokenError;
    expect(err).toBeInstanceOf(MicrosoftTokenError);
    expect(err.error).toBe('invalid_grant');
    expect(err.errorCodes).toContain(50173);
    expect(errorExpiresAuthorization(err)).toBe(true);
    expect(statusReasonFor(err).code).toBe('AADSTS50173');
    expect(JSON.stringify(err)).not.toContain(set.refreshToken!);
  });

  it('AADSTS65001 on refresh and 403 on Graph after consent is revoked', async () => {
    const set = await signIn(h, 'global', 'admin@northwind.com');
    await control(h, '/tenants/7c1e0a55-3d4b-4f8e-9c21-5a6b7c8d9e01/revoke-consent');
    const err = (await h.oauth
      .refresh('global', { tenantId: '7c1e0a55-3d4b-4f8e-9c21-5a6b7c8d9e01', refreshToken: set.refreshToken!, scopes: APP_PROFILE_SCOPES })
      .catch((e: unknown) => e)) as MicrosoftTokenError;
    expect(err).toBeInstanceOf(MicrosoftTokenError);
    expect(err.errorCodes).toContain(65001);
    expect(statusReasonFor(err).code).toBe('AADSTS65001');
    await expect(graphFor(h, 'global', set.accessToken).organization()).rejects.toMatchObject({ status: 403, code: 'Authorization_RequestDenied' });
  });

  it('AADSTS700082 after 90 days without use', async () => {
    const set = await signIn(h, 'usgov', 'admin@fabrikamgov.us');
    await control(h, '/clock', { advanceSeconds: 7776000 + 3600 });
    const err = (await h.oauth
      .refresh('usgov', { tenantId: FABRIKAM, refreshToken: set.refreshToken!, scopes: APP_PROFILE_SCOPES })
      .catch((e: unknown) => e)) as MicrosoftTokenError;
    expect(err).toBeInstanceOf(MicrosoftTokenError);
    expect(err.error).toBe('invalid_grant');
    expect(err.errorCodes).toContain(700082);
    expect(statusReasonFor(err)).toMatchObject({ code: 'AADSTS700082' });
    expect(errorExpiresAuthorization(err)).toBe(true);
  });
});
