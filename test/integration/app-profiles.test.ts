import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, signUpPartner } from '../support/api-client';
import { insertLocalUser } from '../support/db-fixtures';
import { testEngines } from '../support/engines';
import { AdminBrowser, CONTOSO, FABRIKAM_GOV, NORTHWIND, SAMPLE_PASSWORD, followCallback } from '../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../support/portal';
import { SandboxUserAgent } from '../support/sandbox-user-agent';

const admin = { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' as const };

describe.each(testEngines())('partner app profiles on %s', (engine) => {
  let portal: TestPortal;
  const control = (path: string, body: unknown = {}) =>
    fetch(`${portal.sandbox!.baseUrl}/_sandbox${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    portal = await startTestPortal(engine);
  });
  afterAll(async () => {
    await portal?.close();
  });

  async function newAdmin(name = 'Acme Partners') {
    const partner = await signUpPartner(portal.url, name);
    return { ...partner, browser: new AdminBrowser(partner.client) };
  }

  async function createContoso(browser: AdminBrowser, name = 'Contoso M365') {
    const outcome = await browser.createProfile(name, admin);
    expect(outcome.result, outcome.location).toBe('created');
    return outcome.profileId!;
  }

  const profileRow = (id: string) => portal.services.db.selectFrom('app_profiles').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const countProfiles = async (partnerId: string) =>
    Number((await portal.services.db.selectFrom('app_profiles').select((eb) => eb.fn.countAll().as('n')).where('partner_id', '=', partnerId).executeTakeFirstOrThrow()).n);

  describe('create', () => {
    it('creates an Active profile after a Global Administrator consents, and audits it', async () => {
      const { client, browser, email } = await newAdmin();
      const start = await client.post('/api/app-profiles', { name: '  Contoso M365  ', cloud: 'global' });
      expect(start.status).toBe(201);
      const url = new URL(start.body.authorizationUrl);
      expect(url.pathname).toMatch(/\/organizations\/oauth2\/v2\.0\/authorize$/);
      const p = url.searchParams;
      expect(p.get('response_type')).toBe('code');
      expect(p.get('code_challenge_method')).toBe('S256');
      expect(p.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(p.get('state')).toBeTruthy();
      expect(p.get('nonce')).toBeTruthy();
      expect(p.get('prompt')).toBe('consent');
      expect(p.get('scope')!.split(' ')).toEqual(expect.arrayContaining(['openid', 'offline_access', 'User.Read.All', 'Group.Read.All', 'Directory.Read.All', 'GroupMember.Read.All', 'Organization.Read.All', 'Domain.Read.All', 'User.Read']));
      expect((await client.get('/api/app-profiles')).body.items).toEqual([]);

      const outcome = await browser.roundTrip(start.body.authorizationUrl, admin);
      expect(outcome.result).toBe('created');
      expect(outcome.location).toMatch(/^\/settings\/app-profiles\?/);
      const list = await client.get('/api/app-profiles');
      expect(list.body.items).toHaveLength(1);
      expect(list.body.items[0]).toMatchObject({
        id: outcome.profileId,
        name: 'Contoso M365',
        status: 'active',
        statusReason: null,
        cloud: 'global',
        tenantId: CONTOSO.id,
        tenantName: CONTOSO.name,
        tenantDomain: CONTOSO.domain,
        authorizedBy: CONTOSO.admin,
        inUse: { users: 0, groups: 0 },
      });
      expect(list.body.items[0].grantedScopes).toEqual(expect.arrayContaining(['User.Read.All', 'Domain.Read.All']));
      const lapses = Date.parse(list.body.items[0].lapsesAt) - Date.now();
      expect(lapses).toBeGreaterThan(89 * 86400_000);

      const audit = await client.get('/api/audit?action=app_profile.create');
      expect(audit.body.items[0]).toMatchObject({ actorEmail: email, outcome: 'success', targetName: 'Contoso M365', details: { microsoftAccount: CONTOSO.admin, tenantId: CONTOSO.id } });
    });

    it('keeps the refresh token only sealed with AES-256-GCM and never answers it', async () => {
      const { client, browser } = await newAdmin();
      const id = await createContoso(browser);
      const row = await profileRow(id);
      expect(row.refresh_token_sealed).toMatch(/^v1\./);
      expect(row.refresh_token_key_id).toBe(portal.services.secretBox.currentKeyId);
      const token = portal.services.secretBox.open(row.refresh_token_sealed, `app-profile:${id}:refresh-token`);
      expect(token.length).toBeGreaterThan(10);
      const answers = JSON.stringify([(await client.get('/api/app-profiles')).body, (await client.get(`/api/app-profiles/${id}`)).body, (await client.post(`/api/app-profiles/${id}/check`)).body]);
      expect(answers).not.toContain(token);
      expect(answers).not.toContain(row.refresh_token_sealed);
      for (const table of ['app_profiles', 'oauth_flows', 'audit_events', 'sessions', 'users'] as const) {
        const rows = await portal.services.db.selectFrom(table).selectAll().execute();
        expect(JSON.stringify(rows), table).not.toContain(token);
      }
    });

    it('refuses a name already used by the partner, whatever its case, before leaving for Microsoft', async () => {
      const { client, browser } = await newAdmin();
      await createContoso(browser, 'Main Tenant');
      const res = await client.post('/api/app-profiles', { name: 'main tenant', cloud: 'global' });
      expect(res.status).toBe(409);
      expect(res.body.error).toMatchObject({ code: 'NAME_TAKEN', details: { field: 'name' } });
    });

    it('answers on step one whether a name is free: taken whatever its case, free for another partner, everyday punctuation accepted', async () => {
      const { client, browser } = await newAdmin();
      await createContoso(browser, 'Contoso – O’Brien & Sons (EMEA)!');
      const available = (name: string) => client.get(`/api/app-profiles/name-available?name=${encodeURIComponent(name)}`);

      const taken = await available('  contoso – o’brien & sons (emea)!  ');
      expect(taken.status).toBe(200);
      expect(taken.body).toEqual({ available: false, message: 'An app profile named “contoso – o’brien & sons (emea)!” already exists. Choose another name.' });
      expect((await available('Fabrikam – Müller’s “Team” #2!')).body).toEqual({ available: true, message: null });
      // Scoped to the partner: another partner may use the same name.
      const other = await newAdmin('Other Partners');
      expect((await other.client.get(`/api/app-profiles/name-available?name=${encodeURIComponent('Contoso – O’Brien & Sons (EMEA)!')}`)).body.available).toBe(true);
      // What the rule refuses answers 400 on the name field, in words.
      for (const name of ['Contoso <b>', 'Tab\there', '']) {
        const refused = await available(name);
        expect(refused.status, name).toBe(400);
        expect(refused.body.error.details.field, name).toBe('name');
      }
      // And the name goes through creation as it was checked.
      expect((await client.post('/api/app-profiles', { name: 'Fabrikam – Müller’s “Team” #2!', cloud: 'global' })).status).toBe(201);
    });

    it.each([
      ['empty after trimming', '   ', 'name'],
      ['too long', 'x'.repeat(101), 'name'],
      ['control characters', 'bad\u0007name', 'name'],
      ['missing', undefined, 'name'],
    ])('refuses a name that is %s', async (_label, name, field) => {
      const { client } = await newAdmin();
      const res = await client.post('/api/app-profiles', { name, cloud: 'global' });
      expect(res.status).toBe(400);
      expect(res.body.error.details.field).toBe(field);
    });

    it('stores nothing when consent is cancelled at Microsoft', async () => {
      const { browser, partnerId } = await newAdmin();
      const outcome = await browser.createProfile('Cancelled', { ...admin, consent: 'cancel' });
      expect(outcome).toMatchObject({ result: 'error', code: 'CONSENT_CANCELLED' });
      expect(await countProfiles(partnerId)).toBe(0);
    });

    it('refuses a tenant the partner already connected, naming the existing profile', async () => {
      const { browser, partnerId } = await newAdmin();
      const first = await createContoso(browser, 'Contoso first');
      const again = await browser.createProfile('Contoso again', { consent: 'accept', pickAccount: CONTOSO.admin });
      expect(again).toMatchObject({ result: 'error', code: 'TENANT_ALREADY_CONNECTED', profileId: first });
      expect(await countProfiles(partnerId)).toBe(1);
    });

    it('lets two partners connect the same tenant, each seeing only its own profile', async () => {
      const a = await newAdmin('Partner A');
      const b = await newAdmin('Partner B');
      const aId = await createContoso(a.browser, 'Shared tenant');
      const bId = await createContoso(b.browser, 'Shared tenant');
      expect((await a.client.get('/api/app-profiles')).body.items.map((p: { id: string }) => p.id)).toEqual([aId]);
      expect((await b.client.get('/api/app-profiles')).body.items.map((p: { id: string }) => p.id)).toEqual([bId]);
    });

    it('refuses an account that is not a Global Administrator, storing nothing', async () => {
      // An Application Administrator may grant tenant-wide consent but is not a Global Administrator.
      const added = await fetch(`${portal.sandbox!.baseUrl}/_sandbox/tenants/${CONTOSO.id}/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userPrincipalName: `appadmin${Date.now()}@contoso.com`, displayName: 'App Admin', password: SAMPLE_PASSWORD, roles: ['Privileged Role Administrator'] }),
      });
      expect(added.status).toBeLessThan(300);
      const user = (await added.json()) as { userPrincipalName: string };
      const { browser, partnerId } = await newAdmin();
      const outcome = await browser.createProfile('Not an admin', { email: user.userPrincipalName, password: SAMPLE_PASSWORD, consent: 'accept', pickAccount: 'another' });
      expect(outcome).toMatchObject({ result: 'error', code: 'NOT_GLOBAL_ADMIN' });
      expect(await countProfiles(partnerId)).toBe(0);
    });

    it('refuses a consent that lacks required permissions, listing them, and stores nothing', async () => {
      // Northwind's app consent policy excludes two permissions: consent grants all the others.
      const policy = await control(`/tenants/${NORTHWIND.id}/consent-policy`, { blockedScopes: ['Domain.Read.All', 'GroupMember.Read.All'] });
      expect(policy.status).toBe(204);
      try {
        const { browser, partnerId } = await newAdmin();
        const outcome = await browser.createProfile('Partial', { email: NORTHWIND.admin, password: SAMPLE_PASSWORD, consent: 'accept', pickAccount: 'another' });
        expect(outcome).toMatchObject({ result: 'error', code: 'MISSING_PERMISSIONS' });
        expect(outcome.missing!.split(',').sort()).toEqual(['Domain.Read.All', 'GroupMember.Read.All']);
        expect(await countProfiles(partnerId)).toBe(0);
      } finally {
        await control(`/tenants/${NORTHWIND.id}/consent-policy`, { blockedScopes: [] });
      }
    });

    it('offers no US Government cloud outside the US Gov Virginia data center (the sandbox serves 21Vianet too)', async () => {
      const { client } = await newAdmin();
      expect((await client.get('/api/app-profiles/clouds')).body.clouds).toEqual([
        { id: 'global', label: 'Global Microsoft 365', loginHost: 'login.microsoftonline.com' },
        { id: 'china', label: 'Microsoft 365 operated by 21Vianet', loginHost: 'login.partner.microsoftonline.cn' },
      ]);
      const res = await client.post('/api/app-profiles', { name: 'Gov', cloud: 'usgov' });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'CLOUD_NOT_OFFERED', details: { field: 'cloud' } });
    });
  });

  describe('state, nonce and PKCE', () => {
    async function startedFlow() {
      const { client, browser, partnerId } = await newAdmin();
      const start = await client.post('/api/app-profiles', { name: 'Replay target', cloud: 'global' });
      const redirect = await browser.microsoft.authorize(start.body.authorizationUrl, admin);
      return { client, browser, partnerId, redirect };
    }

    it('honours a callback once: a replay changes nothing', async () => {
      const { client, partnerId, redirect } = await startedFlow();
      expect((await followCallback(client, redirect)).result).toBe('created');
      const replay = await followCallback(client, redirect);
      expect(replay).toMatchObject({ result: 'error', code: 'STATE_INVALID' });
      expect(await countProfiles(partnerId)).toBe(1);
    });

    it('ignores a forged state', async () => {
      const { client, partnerId, redirect } = await startedFlow();
      redirect.searchParams.set('state', 'forged-state-value');
      expect(await followCallback(client, redirect)).toMatchObject({ result: 'error', code: 'STATE_INVALID' });
      expect(await countProfiles(partnerId)).toBe(0);
    });

    it('ignores a stale callback (older than 10 minutes)', async () => {
      const { client, partnerId, redirect } = await startedFlow();
      await portal.services.db.updateTable('oauth_flows').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('partner_id', '=', partnerId).execute();
      expect(await followCallback(client, redirect)).toMatchObject({ result: 'error', code: 'STATE_INVALID' });
      expect(await countProfiles(partnerId)).toBe(0);
    });

    it('ignores a callback in another browser or another portal session', async () => {
      const { client, partnerId, redirect, ...rest } = await startedFlow();
      const otherBrowser = new ApiClient(portal.url);
      otherBrowser.cookie = client.cookie;
      expect(await followCallback(otherBrowser, redirect)).toMatchObject({ result: 'error', code: 'STATE_INVALID' });
      const signedInAgain = new ApiClient(portal.url);
      signedInAgain.jar.set('tg_oauth', client.jar.get('tg_oauth')!);
      const owner = await portal.services.db.selectFrom('users').select('email').where('partner_id', '=', partnerId).executeTakeFirstOrThrow();
      await signedInAgain.post('/api/session', { email: owner.email, password: 'violet-harbor-lantern-42' });
      expect(await followCallback(signedInAgain, redirect)).toMatchObject({ result: 'error', code: 'STATE_INVALID' });
      expect(await countProfiles(partnerId)).toBe(0);
      expect(rest.browser).toBeDefined();
    });

    it('stores only a hash of state and sealed nonce and verifier', async () => {
      const { client } = await newAdmin();
      const start = await client.post('/api/app-profiles', { name: 'Hashes', cloud: 'global' });
      const state = new URL(start.body.authorizationUrl).searchParams.get('state')!;
      const nonce = new URL(start.body.authorizationUrl).searchParams.get('nonce')!;
      const rows = JSON.stringify(await portal.services.db.selectFrom('oauth_flows').selectAll().execute());
      expect(rows).not.toContain(state);
      expect(rows).not.toContain(nonce);
    });
  });

  describe('edit profile name', () => {
    it('renames, with the same rules, and audits it', async () => {
      const { client, browser } = await newAdmin();
      const id = await createContoso(browser, 'Old name');
      await createContoso(new AdminBrowser(client), 'Other').catch(() => undefined);
      const res = await client.patch(`/api/app-profiles/${id}`, { name: '  New name ' });
      expect(res.status).toBe(200);
      expect(res.body.name).toBe('New name');
      const caseOnly = await client.patch(`/api/app-profiles/${id}`, { name: 'NEW NAME' });
      expect(caseOnly.status).toBe(200);
      expect((await client.patch(`/api/app-profiles/${id}`, { name: '' })).status).toBe(400);
      const audit = await client.get('/api/audit?action=app_profile.rename');
      expect(audit.body.items[0]).toMatchObject({ targetName: 'NEW NAME', details: { previousName: 'New name' } });
    });

    it('refuses a name another profile of the partner has', async () => {
      const { client, browser } = await newAdmin();
      const id = await createContoso(browser, 'First');
      const northwind = await browser.createProfile('Second', { email: NORTHWIND.admin, password: SAMPLE_PASSWORD, consent: 'accept', pickAccount: 'another' });
      expect(northwind.result).toBe('created');
      const res = await client.patch(`/api/app-profiles/${id}`, { name: 'second' });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('NAME_TAKEN');
    });
  });

  describe('re-authorize', () => {
    it('with the current account: consent only, no password, token replaced', async () => {
      const { client, browser } = await newAdmin();
      const id = await createContoso(browser);
      const before = await profileRow(id);
      const outcome = await browser.reauthorize(id, 'current', { consent: 'accept' });
      expect(outcome).toMatchObject({ result: 'reauthorized', profileId: id });
      const after = await profileRow(id);
      expect(after.refresh_token_sealed).not.toBe(before.refresh_token_sealed);
      expect(after.authorized_by_upn).toBe(CONTOSO.admin);
      expect((await client.get(`/api/app-profiles/${id}`)).body.status).toBe('active');
    });

    it('signing out and using another account of the same tenant; the portal session stays', async () => {
      const { client, browser } = await newAdmin();
      const id = await createContoso(browser);
      const outcome = await browser.reauthorize(id, 'another', { email: CONTOSO.admin2, password: SAMPLE_PASSWORD, consent: 'accept' });
      expect(outcome).toMatchObject({ result: 'reauthorized', profileId: id });
      expect((await client.get(`/api/app-profiles/${id}`)).body.authorizedBy).toBe(CONTOSO.admin2);
      expect((await client.get('/api/session')).status).toBe(200);
      const audit = await client.get('/api/audit?action=app_profile.reauthorize');
      expect(audit.body.items[0].details).toMatchObject({ account: 'another', microsoftAccount: CONTOSO.admin2, previousMicrosoftAccount: CONTOSO.admin });
    });

    it('refuses an account of another tenant and leaves the profile untouched', async () => {
      const { client, browser } = await newAdmin();
      const id = await createContoso(browser);
      const before = await profileRow(id);
      const outcome = await browser.reauthorize(id, 'another', { email: NORTHWIND.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
      expect(outcome).toMatchObject({ result: 'error', code: 'WRONG_TENANT' });
      expect(await profileRow(id)).toEqual(before);
      expect((await client.get('/api/audit?action=app_profile.reauthorize&outcome=failure')).body.items[0].details.code).toBe('WRONG_TENANT');
    });

    it('refuses an account of the same tenant that is not a Global Administrator, leaving the profile untouched', async () => {
      const added = await fetch(`${portal.sandbox!.baseUrl}/_sandbox/tenants/${CONTOSO.id}/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userPrincipalName: `roleadmin${Date.now()}@contoso.com`, displayName: 'Role Admin', password: SAMPLE_PASSWORD, roles: ['Privileged Role Administrator'] }),
      });
      const user = (await added.json()) as { userPrincipalName: string };
      const { browser } = await newAdmin();
      const id = await createContoso(browser);
      const before = await profileRow(id);
      const outcome = await browser.reauthorize(id, 'another', { email: user.userPrincipalName, password: SAMPLE_PASSWORD, consent: 'accept' });
      expect(outcome).toMatchObject({ result: 'error', code: 'NOT_GLOBAL_ADMIN' });
      expect(await profileRow(id)).toEqual(before);
    });

    it('leaves the profile untouched when consent is cancelled', async () => {
      const { browser } = await newAdmin();
      const id = await createContoso(browser);
      const before = await profileRow(id);
      expect(await browser.reauthorize(id, 'current', { consent: 'cancel' })).toMatchObject({ result: 'error', code: 'CONSENT_CANCELLED' });
      expect(await profileRow(id)).toEqual(before);
    });
  });

  describe('expiry', () => {
    it('shows "App authorization expired" with the cause after sessions are revoked, and re-authorizing restores it', async () => {
      const { client, browser } = await newAdmin();
      const id = await createContoso(browser);
      expect((await control(`/tenants/${CONTOSO.id}/users/${CONTOSO.admin}/revoke-sessions`)).status).toBeLessThan(300);
      const checked = await client.post(`/api/app-profiles/${id}/check`);
      expect(checked.status).toBe(200);
      expect(checked.body.status).toBe('authorization_expired');
      expect(checked.body.statusReason).toMatchObject({ code: 'AADSTS50173' });
      expect(checked.body.statusReason.fix).toMatch(/Authorize the app profile again/);
      const audit = await client.get('/api/audit?action=app_profile.expired');
      expect(audit.body.items[0].details).toMatchObject({ code: 'AADSTS50173' });
      const again = await browser.reauthorize(id, 'current', { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
      expect(again.result).toBe('reauthorized');
      expect((await client.get(`/api/app-profiles/${id}`)).body).toMatchObject({ status: 'active', statusReason: null });
    });

    it('never flips to expired on Graph outages: records "last check failed" instead', async () => {
      const { client, browser } = await newAdmin();
      const id = await createContoso(browser, 'Flaky');
      await control('/faults', { tenantId: CONTOSO.id, status: 503, requests: 50 });
      const checked = await client.post(`/api/app-profiles/${id}/check`);
      await control('/faults', { tenantId: CONTOSO.id, status: 503, requests: 0 });
      expect(checked.body.status).toBe('active');
      expect(checked.body.lastCheckError).toMatchObject({ at: expect.any(String) });
    }, 60_000);

    it('retries an identity-platform outage with backoff and never flips to expired', async () => {
      const { client, browser } = await newAdmin();
      const id = await createContoso(browser, 'Token outage');
      // Two failures: the retries get through, the profile stays Active with no failed check.
      await control('/faults', { tenantId: CONTOSO.id, status: 503, requests: 2, target: 'token' });
      const recovered = await client.post(`/api/app-profiles/${id}/check`);
      expect(recovered.body).toMatchObject({ status: 'active', lastCheckError: null });
      // A lasting outage: still Active, shown as "last check failed".
      await control('/faults', { tenantId: CONTOSO.id, status: 503, requests: 20, target: 'token' });
      const failed = await client.post(`/api/app-profiles/${id}/check`);
      await control('/faults', { tenantId: CONTOSO.id, status: 503, requests: 0, target: 'token' });
      expect(failed.body.status).toBe('active');
      expect(failed.body.statusReason).toBeNull();
      expect(failed.body.lastCheckError).toMatchObject({ at: expect.any(String), message: expect.stringMatching(/503|unavailable/i) });
    }, 60_000);
  });

  describe('delete', () => {
    it('deletes unused profiles with their tokens and keeps those in use, with the reason', async () => {
      const { client, browser, partnerId } = await newAdmin();
      const unused = await createContoso(browser, 'Unused');
      const used = (await browser.createProfile('Used', { email: NORTHWIND.admin, password: SAMPLE_PASSWORD, consent: 'accept', pickAccount: 'another' })).profileId!;
      const memberId = await insertLocalUser(portal.services.db, partnerId, { email: `m365-${Date.now()}@northwind.com`, password: 'silver-forest-river-9', role: 'member' });
      await portal.services.db.updateTable('users').set({ sign_in_type: 'microsoft365', app_profile_id: used }).where('id', '=', memberId).execute();
      const res = await client.post('/api/app-profiles/delete', { ids: [unused, used] });
      expect(res.status).toBe(200);
      expect(res.body.deleted).toEqual([unused]);
      expect(res.body.blocked).toEqual([
        { id: used, name: 'Used', code: 'PROFILE_IN_USE', inUse: { users: 1, groups: 0 }, message: '“Used” cannot be deleted: used by 1 Microsoft 365 user and 0 groups in User management.' },
      ]);
      expect(await portal.services.db.selectFrom('app_profiles').select('id').where('id', '=', unused).executeTakeFirst()).toBeUndefined();
      // The database itself refuses to orphan a user.
      await expect(portal.services.db.deleteFrom('app_profiles').where('id', '=', used).execute()).rejects.toThrow();
    });
  });

  describe('isolation and roles', () => {
    it('answers 404 for another partner\'s profile on every route', async () => {
      const a = await newAdmin('A');
      const b = await newAdmin('B');
      const id = await createContoso(a.browser);
      const attempts = [
        await b.client.get(`/api/app-profiles/${id}`),
        await b.client.patch(`/api/app-profiles/${id}`, { name: 'Mine now' }),
        await b.client.post(`/api/app-profiles/${id}/reauthorize`, { account: 'current' }),
        await b.client.post(`/api/app-profiles/${id}/check`),
        await b.client.post('/api/app-profiles/delete', { ids: [id] }),
      ];
      expect(attempts.map((r) => r.status)).toEqual([404, 404, 404, 404, 404]);
      expect((await a.client.get(`/api/app-profiles/${id}`)).body.name).toBe('Contoso M365');
    });

    it('answers 403 to a Member on every route', async () => {
      const owner = await newAdmin();
      const id = await createContoso(owner.browser);
      const email = `member-${Date.now()}@acme-partner.test`;
      await insertLocalUser(portal.services.db, owner.partnerId, { email, password: 'silver-forest-river-9', role: 'member' });
      const member = new ApiClient(portal.url);
      await member.post('/api/session', { email, password: 'silver-forest-river-9' });
      const attempts = [
        await member.get('/api/app-profiles'),
        await member.get(`/api/app-profiles/${id}`),
        await member.post('/api/app-profiles', { name: 'x', cloud: 'global' }),
        await member.patch(`/api/app-profiles/${id}`, { name: 'x' }),
        await member.post(`/api/app-profiles/${id}/reauthorize`, { account: 'current' }),
        await member.post(`/api/app-profiles/${id}/check`),
        await member.post('/api/app-profiles/delete', { ids: [id] }),
      ];
      expect(attempts.map((r) => r.status)).toEqual([403, 403, 403, 403, 403, 403, 403]);
    });
  });

  describe('health sweep', () => {
    it('never overwrites a re-authorization that landed while a refresh was in flight', async () => {
      const { browser } = await newAdmin();
      const id = await createContoso(browser, 'Raced');
      const before = await profileRow(id);
      // A refresh made with the token the profile held before re-authorization finishes after it.
      await browser.reauthorize(id, 'current', { consent: 'accept' });
      const reauthorized = await profileRow(id);
      await portal.services.appProfiles.store.recordRefresh({ partnerId: before.partner_id, id, usedSealed: before.refresh_token_sealed, changes: { refresh_token_sealed: 'v1.stale', token_used_at: new Date().toISOString() } });
      expect((await profileRow(id)).refresh_token_sealed).toBe(reauthorized.refresh_token_sealed);
    });

    it('writes a sweep batch in one statement: rotated tokens stored, answers without a token keep theirs, a raced one untouched', async () => {
      // A tenant connects once per partner: three partners, one profile each.
      const browsers = [(await newAdmin()).browser, (await newAdmin()).browser, (await newAdmin()).browser];
      const [rotated, kept, raced] = [await createContoso(browsers[0], 'Batch rotated'), await createContoso(browsers[1], 'Batch kept'), await createContoso(browsers[2], 'Batch raced')];
      const before = await Promise.all([rotated, kept, raced].map(profileRow));
      await browsers[2].reauthorize(raced, 'current', { consent: 'accept' });
      const racedNow = await profileRow(raced);
      const at = new Date(Date.now() + 60_000).toISOString();
      const usual = { token_used_at: at, last_checked_at: at, last_check_error_at: null, last_check_error_message: null };
      await portal.services.appProfiles.store.recordRefreshes([
        { partnerId: before[0].partner_id, id: rotated, usedSealed: before[0].refresh_token_sealed, changes: { ...usual, refresh_token_sealed: 'v1.rotated', refresh_token_key_id: 'k2', granted_scopes: '["User.Read"]' } },
        { partnerId: before[1].partner_id, id: kept, usedSealed: before[1].refresh_token_sealed, changes: usual },
        { partnerId: before[2].partner_id, id: raced, usedSealed: before[2].refresh_token_sealed, changes: { ...usual, refresh_token_sealed: 'v1.stale' } },
      ]);
      const [afterRotated, afterKept, afterRaced] = await Promise.all([rotated, kept, raced].map(profileRow));
      expect(afterRotated).toMatchObject({ refresh_token_sealed: 'v1.rotated', refresh_token_key_id: 'k2', granted_scopes: '["User.Read"]', last_checked_at: at, token_used_at: at });
      expect(afterKept).toMatchObject({ refresh_token_sealed: before[1].refresh_token_sealed, refresh_token_key_id: before[1].refresh_token_key_id, granted_scopes: before[1].granted_scopes, last_checked_at: at });
      expect(afterRaced).toEqual(racedNow);
    });

    it('refreshes every active profile, rotating the stored token', async () => {
      const { browser } = await newAdmin();
      const id = await createContoso(browser, 'Swept');
      const before = await profileRow(id);
      await new Promise((r) => setTimeout(r, 5));
      const totals = await portal.services.appProfiles.health.sweep({ olderThanMs: 0 });
      expect(totals.checked).toBeGreaterThanOrEqual(1);
      const after = await profileRow(id);
      expect(after.refresh_token_sealed).not.toBe(before.refresh_token_sealed);
      expect(Date.parse(after.token_used_at)).toBeGreaterThan(Date.parse(before.token_used_at));
    });
  });
});

describe('partner app profiles in the US Gov Virginia data center', () => {
  let portal: TestPortal;
  beforeAll(async () => {
    portal = await startTestPortal('sqlite', { TENANTGATE_DATA_CENTER: 'us-gov-virginia' });
  });
  afterAll(async () => {
    await portal?.close();
  });

  it('offers both versions and creates a US Government profile against the .us cloud', async () => {
    const { client } = await signUpPartner(portal.url);
    expect((await client.get('/api/app-profiles/clouds')).body.clouds.map((c: { id: string }) => c.id)).toEqual(['global', 'usgov', 'china']);
    const browser = new AdminBrowser(client);
    const start = await client.post('/api/app-profiles', { name: 'Fabrikam Gov', cloud: 'usgov' });
    expect(start.body.authorizationUrl).toContain(portal.sandbox!.clouds.usgov.login);
    const outcome = await browser.roundTrip(start.body.authorizationUrl, { email: FABRIKAM_GOV.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
    expect(outcome.result).toBe('created');
    const profile = (await client.get(`/api/app-profiles/${outcome.profileId}`)).body;
    expect(profile).toMatchObject({ cloud: 'usgov', tenantId: FABRIKAM_GOV.id, tenantDomain: FABRIKAM_GOV.domain, status: 'active' });
    expect((await client.post(`/api/app-profiles/${outcome.profileId}/check`)).body.status).toBe('active');
  });

  it('does not find a global account in the US Government cloud', async () => {
    const { client } = await signUpPartner(portal.url);
    const start = await client.post('/api/app-profiles', { name: 'Wrong cloud', cloud: 'usgov' });
    const agent = new SandboxUserAgent();
    await expect(agent.authorize(start.body.authorizationUrl, { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' })).rejects.toThrow();
  });
});
