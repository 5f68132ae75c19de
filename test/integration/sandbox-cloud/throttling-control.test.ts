import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_SCOPES, CONTOSO, NORTHWIND, control, graphGet, signIn, startHarness, tokenRequest, type Harness } from './helpers';

let h: Harness;
let token: string;
beforeAll(async () => {
  h = await startHarness();
  token = (await signIn(h, 'admin@contoso.com')).access_token;
});
afterAll(() => h.sandbox.close());

describe('throttling, faults and request accounting', () => {
  it('throttles the next N requests with 429 TooManyRequests and Retry-After', async () => {
    expect((await control(h, 'POST', '/throttle', { tenantId: CONTOSO, requests: 2, retryAfterSeconds: 3 })).status).toBe(204);
    for (let i = 0; i < 2; i++) {
      const res = await graphGet(h, 'global', '/me', token);
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('3');
      expect(res.body.error!.code).toBe('TooManyRequests');
    }
    expect((await graphGet(h, 'global', '/me', token)).status).toBe(200);
  });

  it('enforces a standing resource-unit budget with Graph costs', async () => {
    await control(h, 'POST', '/requests/reset', { tenantId: CONTOSO });
    await control(h, 'POST', '/throttle', { tenantId: CONTOSO, resourceUnitsPer10s: 10 });
    // GET users costs 2, GET groups/{id}/members 3, transitiveMembers 5, $select takes 1 off.
    expect((await graphGet(h, 'global', '/users', token)).status).toBe(200); // 2
    expect((await graphGet(h, 'global', '/users?$select=id', token)).status).toBe(200); // 1
    expect((await graphGet(h, 'global', '/groups/c1c1c1c1-0001-4000-8000-000000000001/transitiveMembers', token)).status).toBe(200); // 5
    const over = await graphGet(h, 'global', '/groups/c1c1c1c1-0001-4000-8000-000000000001/members', token); // 3 > 2 left
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await control(h, 'GET', `/requests?tenantId=${CONTOSO}`)).body).toEqual({ tenantId: CONTOSO, requests: 4, resourceUnits: 8, overBudget: 1 });
    await control(h, 'POST', '/clock', { advanceSeconds: 11 });
    expect((await graphGet(h, 'global', '/groups/c1c1c1c1-0001-4000-8000-000000000001/members', token)).status).toBe(200);
    await control(h, 'POST', '/throttle', { tenantId: CONTOSO, resourceUnitsPer10s: null });
  });

  it('injects faults: 503 serviceNotAvailable with Retry-After, 500 generalException', async () => {
    await control(h, 'POST', '/faults', { tenantId: CONTOSO, status: 503, requests: 1 });
    const unavailable = await graphGet(h, 'global', '/me', token);
    expect(unavailable.status).toBe(503);
    expect(unavailable.body.error!.code).toBe('serviceNotAvailable');
    expect(Number(unavailable.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    await control(h, 'POST', '/faults', { tenantId: CONTOSO, status: 500, requests: 1 });
    const failed = await graphGet(h, 'global', '/me', token);
    expect(failed.status).toBe(500);
    expect(failed.body.error!.code).toBe('generalException');
    expect((await graphGet(h, 'global', '/me', token)).status).toBe(200);
  });

  it('counts requests per tenant and for all tenants', async () => {
    const all = (await control(h, 'GET', '/requests')).body as { tenants: { tenantId: string; requests: number }[] };
    expect(all.tenants.find((t) => t.tenantId === CONTOSO)!.requests).toBeGreaterThan(0);
  });
});

describe('control endpoints', () => {
  it('lists tenants with counts and answers 404 for unknown tenants, users and groups', async () => {
    const tenants = (await control(h, 'GET', '/tenants')).body as { tenants: Record<string, unknown>[] };
    expect(tenants.tenants).toEqual(expect.arrayContaining([expect.objectContaining({ id: CONTOSO, cloud: 'global', displayName: 'Contoso Ltd', users: 6, groups: 3 })]));
    const unknownTenant = await control(h, 'DELETE', '/tenants/00000000-0000-0000-0000-000000000000/users/x@y.com');
    expect(unknownTenant.status).toBe(404);
    expect((unknownTenant.body as { error: { message: string } }).error.message).toContain('00000000-0000-0000-0000-000000000000');
    expect((await control(h, 'PATCH', `/tenants/${CONTOSO}/users/ghost@contoso.com`, { displayName: 'x' })).status).toBe(404);
    expect((await control(h, 'DELETE', `/tenants/${CONTOSO}/groups/00000000-0000-0000-0000-000000000001`)).status).toBe(404);
  });

  it('adds, changes and deletes users and memberships, visible through Graph', async () => {
    const added = await control(h, 'POST', `/tenants/${CONTOSO}/users`, { userPrincipalName: 'lee@contoso.com', displayName: 'Lee Gu', password: 'Passw0rd!' });
    expect(added.status).toBe(201);
    expect((await graphGet(h, 'global', '/users/lee@contoso.com', token)).body.displayName).toBe('Lee Gu');
    await control(h, 'POST', `/tenants/${CONTOSO}/groups/c1c1c1c1-0003-4000-8000-000000000003/members`, { member: 'lee@contoso.com' });
    const members = await graphGet(h, 'global', '/groups/c1c1c1c1-0003-4000-8000-000000000003/members?$select=userPrincipalName', token);
    expect(members.body.value!.map((m) => m.userPrincipalName)).toContain('lee@contoso.com');
    await control(h, 'PATCH', `/tenants/${CONTOSO}/users/lee@contoso.com`, { accountEnabled: false });
    expect((await graphGet(h, 'global', '/users/lee@contoso.com?$select=accountEnabled', token)).body.accountEnabled).toBe(false);
    expect((await control(h, 'DELETE', `/tenants/${CONTOSO}/users/lee@contoso.com`)).status).toBe(204);
    expect((await graphGet(h, 'global', '/users/lee@contoso.com', token)).status).toBe(404);
    expect((await control(h, 'POST', `/tenants/${CONTOSO}/users`, { userPrincipalName: 'x@elsewhere.com', displayName: 'X', password: 'p' })).status).toBe(400);
  });

  it('registers apps over HTTP', async () => {
    const res = await control(h, 'POST', '/apps', { displayName: 'Tool', redirectUris: ['http://localhost:1/cb'] });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ clientId: expect.stringMatching(/^[0-9a-f-]{36}$/), clientSecret: expect.any(String) });
    expect((await control(h, 'POST', '/apps', { displayName: 'Bad' })).status).toBe(400);
  });
});

describe('identity-platform outages and consent policies', () => {
  it('fails the next N token requests of a tenant with 503 and Retry-After, then answers again', async () => {
    const { refresh_token } = await signIn(h, 'megan@contoso.com');
    expect((await control(h, 'POST', '/faults', { tenantId: CONTOSO, status: 503, requests: 1, retryAfterSeconds: 2, target: 'token' })).status).toBe(204);
    const res = await fetch(`${h.sandbox.clouds.global.login}/${CONTOSO}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token, client_id: h.clientId, client_secret: h.clientSecret }),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(((await res.json()) as { error: string }).error).toBe('temporarily_unavailable');
    const again = await tokenRequest(h, 'global', CONTOSO, { grant_type: 'refresh_token', refresh_token });
    expect(again.status).toBe(200);
  });

  it('answers the next N token requests of a tenant late with "delayMs", normally, then on time again', async () => {
    const { refresh_token } = await signIn(h, 'megan@contoso.com');
    expect((await control(h, 'POST', '/faults', { tenantId: CONTOSO, delayMs: 600, requests: 1, target: 'token' })).status).toBe(204);
    let started = Date.now();
    const late = await tokenRequest(h, 'global', CONTOSO, { grant_type: 'refresh_token', refresh_token });
    expect(late.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    started = Date.now();
    expect((await tokenRequest(h, 'global', CONTOSO, { grant_type: 'refresh_token', refresh_token })).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(550);
  });

  it('grants every requested permission but those the tenant consent policy excludes', async () => {
    expect((await control(h, 'POST', `/tenants/${NORTHWIND}/consent-policy`, { blockedScopes: ['Domain.Read.All'] })).status).toBe(204);
    const granted = await signIn(h, 'admin@northwind.com', { scope: ADMIN_SCOPES });
    const scopes = String(granted.scope).split(' ');
    expect(scopes).toContain('User.Read.All');
    expect(scopes).not.toContain('Domain.Read.All');
    await control(h, 'POST', `/tenants/${NORTHWIND}/consent-policy`, { blockedScopes: [] });
  });
});
