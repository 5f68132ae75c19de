import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { control, FABRIKAM, graphGet, graphPost, signIn, startHarness, type Harness } from './helpers';

let h: Harness;
let admin: string;
let gov: string;
const SALES = 'c1c1c1c1-0001-4000-8000-000000000001';
const SALES_EMEA = 'c1c1c1c1-0002-4000-8000-000000000002';
const SUPPORT = 'c1c1c1c1-0003-4000-8000-000000000003';
const DIEGO = 'a1a1a1a1-0004-4000-8000-000000000004';

beforeAll(async () => {
  h = await startHarness();
  admin = (await signIn(h, 'admin@contoso.com')).access_token;
  gov = (await signIn(h, 'admin@fabrikamgov.us', { cloud: 'usgov' })).access_token;
});
afterAll(() => h.sandbox.close());

describe('Graph reads', () => {
  it('GET /me and /me/memberOf (groups and the Global Administrator role)', async () => {
    const me = await graphGet(h, 'global', '/me', admin);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: 'a1a1a1a1-0001-4000-8000-000000000001', userPrincipalName: 'admin@contoso.com', displayName: 'Contoso Admin', mail: 'admin@contoso.com' });
    expect(me.headers.get('request-id')).toEqual(expect.any(String));
    const megan = (await signIn(h, 'megan@contoso.com')).access_token;
    const memberOf = await graphGet(h, 'global', '/me/memberOf', megan);
    const types = memberOf.body.value!.map((o) => [o['@odata.type'], o.displayName]);
    expect(types).toEqual(expect.arrayContaining([['#microsoft.graph.group', 'Support'], ['#microsoft.graph.directoryRole', 'Global Administrator']]));
    expect(memberOf.body.value!.find((o) => o.displayName === 'Global Administrator')!.roleTemplateId).toBe('62e90394-69f5-4237-9190-012177145e10');
  });

  it('GET /organization and /domains', async () => {
    const org = await graphGet(h, 'global', '/organization', admin);
    expect(org.body.value![0]).toMatchObject({ id: '4f6d1d0e-1c2b-4d9a-9a55-0b7c3e1f2a10', displayName: 'Contoso Ltd' });
    expect(org.body.value![0].verifiedDomains).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'contoso.com', isDefault: true, isInitial: false }), expect.objectContaining({ name: 'contoso.onmicrosoft.com', isInitial: true })]),
    );
    const domains = await graphGet(h, 'global', '/domains', admin);
    expect(domains.body.value!.map((d) => d.id).sort()).toEqual(['contoso.com', 'contoso.onmicrosoft.com']);
    expect(domains.body.value![0]).toHaveProperty('isVerified', true);
  });

  it('GET /users/{id|upn}, /groups/{id}, 404 Request_ResourceNotFound', async () => {
    expect((await graphGet(h, 'global', '/users/alex@contoso.com', admin)).body.displayName).toBe('Alex Wilber');
    expect((await graphGet(h, 'global', `/users/${DIEGO}`, admin)).body.userPrincipalName).toBe('diego@contoso.com');
    expect((await graphGet(h, 'global', `/groups/${SALES}`, admin)).body).toMatchObject({ displayName: 'Sales', mail: 'sales@contoso.com', securityEnabled: true });
    const missing = await graphGet(h, 'global', '/users/nobody@contoso.com', admin);
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: 'Request_ResourceNotFound', innerError: { date: expect.any(String), 'request-id': expect.any(String), 'client-request-id': expect.any(String) } });
  });

  it('members, transitiveMembers and checkMemberGroups follow nesting', async () => {
    const members = await graphGet(h, 'global', `/groups/${SALES}/members`, admin);
    expect(members.body.value!.map((m) => [m['@odata.type'], m.displayName])).toEqual([
      ['#microsoft.graph.user', 'Alex Wilber'],
      ['#microsoft.graph.group', 'Sales EMEA'],
    ]);
    const transitive = await graphGet(h, 'global', `/groups/${SALES}/transitiveMembers?$select=displayName`, admin);
    expect(transitive.body.value!.map((m) => m.displayName).sort()).toEqual(['Alex Wilber', 'Diego Siciliani', 'Sales EMEA']);
    const check = await graphPost(h, 'global', `/users/${DIEGO}/checkMemberGroups`, admin, { groupIds: [SALES, SALES_EMEA, SUPPORT] });
    expect(check.body.value).toEqual([SALES, SALES_EMEA]);
  });

  it('$select returns only the named properties; an unknown one is a 400', async () => {
    const res = await graphGet(h, 'global', '/users?$select=displayName,accountEnabled', admin);
    expect(Object.keys(res.body.value![0]).sort()).toEqual(['accountEnabled', 'displayName']);
    expect(res.body['@odata.context']).toContain('#users(displayName,accountEnabled)');
    expect((await graphGet(h, 'global', '/users?$select=shoeSize', admin)).status).toBe(400);
  });

  it('$filter eq / startswith on displayName, mail, userPrincipalName; anything else is Request_UnsupportedQuery', async () => {
    const names = async (query: string) => (await graphGet(h, 'global', `/users?$filter=${encodeURIComponent(query)}`, admin)).body.value!.map((u) => u.displayName);
    expect(await names("mail eq 'ALEX@contoso.com'")).toEqual(['Alex Wilber']);
    expect(await names("userPrincipalName eq 'diego@contoso.com'")).toEqual(['Diego Siciliani']);
    expect(await names("startswith(displayName,'A')")).toEqual(['Alex Wilber', 'Adele Vance']);
    expect(await names("mail eq 'alex@contoso.com' or userPrincipalName eq 'adele@contoso.com'")).toEqual(['Alex Wilber', 'Adele Vance']);
    for (const bad of ["jobTitle eq 'x'", "displayName ne 'x'", "endswith(mail,'.com')", 'garbage']) {
      const res = await graphGet(h, 'global', `/users?$filter=${encodeURIComponent(bad)}`, admin);
      expect(res.status).toBe(400);
      expect(res.body.error!.code).toBe('Request_UnsupportedQuery');
    }
    const groups = await graphGet(h, 'global', `/groups?$filter=${encodeURIComponent("mail eq 'support@contoso.com'")}`, admin);
    expect(groups.body.value!.map((g) => g.displayName)).toEqual(['Support']);
  });

  it('$top must be 1..999: $top=1000 is a 400', async () => {
    const res = await graphGet(h, 'global', '/users?$top=1000', admin);
    expect(res.status).toBe(400);
    expect(res.body.error!.code).toBe('Request_UnsupportedQuery');
    expect((await graphGet(h, 'global', '/users?$top=0', admin)).status).toBe(400);
    expect((await graphGet(h, 'global', '/users?$top=999', admin)).status).toBe(200);
  });

  it('$search and $count need ConsistencyLevel: eventual', async () => {
    const without = await graphGet(h, 'global', `/users?$search=${encodeURIComponent('"displayName:ale"')}`, admin);
    expect(without.status).toBe(400);
    expect(without.body.error!.code).toBe('Request_UnsupportedQuery');
    const found = await graphGet(h, 'global', `/users?$search=${encodeURIComponent('"displayName:ale"')}&$count=true`, admin, { ConsistencyLevel: 'eventual' });
    expect(found.body.value!.map((u) => u.displayName)).toEqual(['Alex Wilber']);
    expect(found.body['@odata.count']).toBe(1);
    const mail = await graphGet(h, 'global', `/groups?$search=${encodeURIComponent('"mail:sales"')}`, admin, { ConsistencyLevel: 'eventual' });
    expect(mail.body.value!.map((g) => g.displayName)).toEqual(['Sales', 'Sales EMEA']);
    const count = await graphGet(h, 'global', '/users?$count=true&$top=2', admin, { ConsistencyLevel: 'eventual' });
    expect(count.body['@odata.count']).toBe(6);
    expect((await graphGet(h, 'global', '/users?$count=true', admin)).status).toBe(400);
  });
});

describe('Graph token checks', () => {
  it('401 InvalidAuthenticationToken without a token or with a token of the other cloud', async () => {
    const none = await fetch(`${h.sandbox.clouds.global.graph}/v1.0/me`);
    expect(none.status).toBe(401);
    expect((await none.json()).error.code).toBe('InvalidAuthenticationToken');
    const crossed = await graphGet(h, 'global', '/me', gov);
    expect(crossed.status).toBe(401);
    expect(crossed.body.error!.code).toBe('InvalidAuthenticationToken');
    const back = await graphGet(h, 'usgov', '/me', admin);
    expect(back.status).toBe(401);
    const own = await graphGet(h, 'usgov', `/groups?$filter=${encodeURIComponent("displayName eq 'Field Agents'")}`, gov);
    expect(own.body.value![0].mail).toBe('agents@fabrikamgov.us');
    expect((await graphGet(h, 'usgov', '/organization', gov)).body.value![0].id).toBe(FABRIKAM);
  });

  it('401 for a tampered token', async () => {
    const [header, payload, signature] = admin.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), scp: 'Directory.Read.All' })).toString('base64url');
    expect((await graphGet(h, 'global', '/users', `${header}.${forged}.${signature}`)).status).toBe(401);
  });

  it('403 Authorization_RequestDenied when the token lacks the scope', async () => {
    const userOnly = (await signIn(h, 'nora@northwind.com', { scope: 'openid profile offline_access User.Read' })).access_token;
    expect((await graphGet(h, 'global', '/me', userOnly)).status).toBe(200);
    const denied = await graphGet(h, 'global', '/users', userOnly);
    expect(denied.status).toBe(403);
    expect(denied.body.error!.code).toBe('Authorization_RequestDenied');
  });

  it('401 once the access token expires on the sandbox clock', async () => {
    const token = (await signIn(h, 'alex@contoso.com')).access_token;
    expect((await graphGet(h, 'global', '/me', token)).status).toBe(200);
    await control(h, 'POST', '/clock', { advanceSeconds: 3600 });
    const expired = await graphGet(h, 'global', '/me', token);
    expect(expired.status).toBe(401);
    expect(expired.body.error!.message).toContain('expired');
  });
});
