import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, signUpPartner } from '../support/api-client';
import { insertLocalUser } from '../support/db-fixtures';
import { testEngines } from '../support/engines';
import { AdminBrowser, CONTOSO, FABRIKAM_GOV, followCallback, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../support/portal';
import { SandboxUserAgent } from '../support/sandbox-user-agent';
import { changedTables, snapshotTables } from '../support/table-snapshot';

/**
 * Attacks on sign-in and consent, each refused with nothing stored and an audit entry written. Extends
 * what app-profiles.test.ts (replay, forged and foreign state) and sandbox-cloud/faults.test.ts (tampered
 * ID tokens refused) already prove with the two halves they leave out: an audit entry, and not one row
 * of the partner's data changed.
 */
const DATA_TABLES = ['partners', 'users', 'app_profiles', 'group_members', 'sessions', 'directory_sync_state', 'sso_choices'];
const admin = { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' as const };

describe.each(testEngines())('attacks on sign-in and consent (%s)', (engine) => {
  let portal: TestPortal;
  beforeAll(async () => {
    portal = await startTestPortal(engine, { TENANTGATE_DATA_CENTER: 'us-gov-virginia' });
  });
  afterAll(async () => {
    await portal?.close();
  });

  const failures = async () => (await portal.services.db.selectFrom('audit_events').select(['action', 'details', 'partner_id']).where('outcome', '=', 'failure').execute()).map((e) => ({ ...e, details: String(e.details ?? '') }));

  /** Runs the attack; answers the audit entries it wrote. Fails when a row of the partners' data changed. */
  async function refusedWithNothingStored(attack: () => Promise<void>) {
    const before = await snapshotTables(portal.services.db, DATA_TABLES);
    const auditBefore = (await failures()).length;
    await attack();
    expect(changedTables(before, await snapshotTables(portal.services.db, DATA_TABLES))).toEqual([]);
    const written = (await failures()).slice(auditBefore);
    expect(written.length, 'an audit entry of the refusal').toBeGreaterThanOrEqual(1);
    return written;
  }

  async function adminWithStartedFlow(cloud: 'global' | 'usgov' = 'global') {
    const { client, partnerId } = await signUpPartner(portal.url);
    const start = await client.post('/api/app-profiles', { name: `Target ${cloud}`, cloud });
    expect(start.status).toBe(201);
    return { client, partnerId, authorizationUrl: new URL(start.body.authorizationUrl) };
  }

  it('a replayed state: the second delivery is refused and audited', async () => {
    const { client, authorizationUrl } = await adminWithStartedFlow();
    const redirect = await new SandboxUserAgent().authorize(authorizationUrl, admin);
    expect((await followCallback(client, redirect)).result).toBe('created');
    const written = await refusedWithNothingStored(async () => {
      expect(await followCallback(client, redirect)).toMatchObject({ result: 'error', code: 'STATE_INVALID' });
    });
    expect(written).toEqual([expect.objectContaining({ action: 'microsoft.callback', details: expect.stringContaining('STATE_INVALID') })]);
  });

  it('login CSRF: an attacker’s callback delivered by another partner’s browser creates nothing in either', async () => {
    const attacker = await adminWithStartedFlow();
    const attackerRedirect = await new SandboxUserAgent().authorize(attacker.authorizationUrl, admin);
    const victim = await signUpPartner(portal.url, 'Victim Partners');
    await refusedWithNothingStored(async () => {
      expect(await followCallback(victim.client, attackerRedirect)).toMatchObject({ result: 'error', code: 'STATE_INVALID' });
    });
    const victimAudit = await victim.client.get('/api/audit?outcome=failure');
    expect(victimAudit.body.items).toEqual([expect.objectContaining({ action: 'microsoft.callback' })]);
  });

  it('login CSRF on single sign-on: an attacker’s sign-in callback does not sign the victim’s browser in', async () => {
    const { client } = await signUpPartner(portal.url);
    const created = await new AdminBrowser(client).createProfile('Contoso', admin);
    expect((await client.post('/api/users', { signInType: 'microsoft365', emails: [CONTOSO.user], appProfileId: created.profileId, role: 'member' })).status).toBe(200);
    const attacker = new ApiClient(portal.url);
    const start = await attacker.get(`/auth/microsoft/sign-in?email=${encodeURIComponent(CONTOSO.user)}`);
    const redirect = await new SandboxUserAgent().authorize(new URL(start.headers.get('location')!), { email: CONTOSO.user, password: SAMPLE_PASSWORD });
    const victim = new ApiClient(portal.url);
    await refusedWithNothingStored(async () => {
      const res = await victim.get(`${redirect.pathname}${redirect.search}`);
      expect(res.headers.get('location')).toContain('STATE_INVALID');
      expect(victim.jar.get('tg_session')).toBeUndefined();
    });
    expect((await victim.get('/api/session')).status).toBe(401);
  });

  it('a code from another flow: refused (PKCE and nonce bind a code to its flow), audited', async () => {
    const { client, partnerId } = await signUpPartner(portal.url);
    const first = new URL((await client.post('/api/app-profiles', { name: 'First', cloud: 'global' })).body.authorizationUrl);
    const second = new URL((await client.post('/api/app-profiles', { name: 'Second', cloud: 'global' })).body.authorizationUrl);
    const microsoft = new SandboxUserAgent();
    const firstRedirect = await microsoft.authorize(first, admin);
    const swapped = new URL(firstRedirect);
    swapped.searchParams.set('state', second.searchParams.get('state')!);
    const written = await refusedWithNothingStored(async () => {
      expect((await followCallback(client, swapped)).result).toBe('error');
    });
    expect(written[0]).toMatchObject({ action: 'app_profile.create', partner_id: partnerId });
  });

  it('a code from a sign-in flow delivered to a consent flow: refused, audited', async () => {
    const { client } = await signUpPartner(portal.url);
    const consent = new URL((await client.post('/api/app-profiles', { name: 'Consent', cloud: 'global' })).body.authorizationUrl);
    const signIn = await new ApiClient(portal.url).get(`/auth/microsoft/sign-in?email=${encodeURIComponent(CONTOSO.admin)}`);
    const signInRedirect = await new SandboxUserAgent().authorize(new URL(signIn.headers.get('location')!), admin);
    const mixed = new URL(signInRedirect);
    mixed.searchParams.set('state', consent.searchParams.get('state')!);
    await refusedWithNothingStored(async () => {
      expect((await followCallback(client, mixed)).result).toBe('error');
    });
  });

  it('mix-up: a global cloud code delivered to a US Government flow is refused, audited', async () => {
    const { client } = await signUpPartner(portal.url);
    const gov = new URL((await client.post('/api/app-profiles', { name: 'Gov', cloud: 'usgov' })).body.authorizationUrl);
    expect(gov.origin).toBe(new URL(portal.sandbox!.clouds.usgov.login).origin);
    const global = new URL((await client.post('/api/app-profiles', { name: 'Global', cloud: 'global' })).body.authorizationUrl);
    const globalRedirect = await new SandboxUserAgent().authorize(global, admin);
    const mixedUp = new URL(globalRedirect);
    mixedUp.searchParams.set('state', gov.searchParams.get('state')!);
    const written = await refusedWithNothingStored(async () => {
      expect((await followCallback(client, mixedUp)).result).toBe('error');
    });
    expect(written[0].details).toContain('usgov');
    // The same person can still connect the US Government tenant the honest way.
    const honest = await new AdminBrowser(client).createProfile('Fabrikam', { email: FABRIKAM_GOV.admin, password: SAMPLE_PASSWORD, consent: 'accept' }, 'usgov');
    expect(honest.result).toBe('created');
  });

  it.each(['aud', 'iss', 'nonce', 'exp', 'alg-none', 'hs256', 'kid', 'other-cloud-key'])('an ID token with "%s" tampered: consent refused, nothing stored, audited', async (tamper) => {
    const { client } = await signUpPartner(portal.url);
    const fault = await fetch(`${portal.sandbox!.baseUrl}/_sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ target: 'id_token', tamper }) });
    expect(fault.status).toBe(204);
    const written = await refusedWithNothingStored(async () => {
      expect((await new AdminBrowser(client).createProfile('Tampered', admin)).result).toBe('error');
    });
    expect(written[0]).toMatchObject({ action: 'app_profile.create' });
  });

  it('a Member reaches no Administrator route: each refused with 403, nothing stored', async () => {
    const owner = await signUpPartner(portal.url);
    const profile = await new AdminBrowser(owner.client).createProfile('Contoso', admin);
    await owner.client.post('/api/users', { signInType: 'microsoft365', emails: [CONTOSO.user], appProfileId: profile.profileId, role: 'member' });
    const target = ((await owner.client.get('/api/users')).body.items as { id: string; email: string }[]).find((u) => u.email === CONTOSO.user)!;
    await insertLocalUser(portal.services.db, owner.partnerId, { email: 'member@acme-partner.test', password: 'silver-forest-river-9', role: 'member' });
    const member = new ApiClient(portal.url);
    expect((await member.post('/api/session', { email: 'member@acme-partner.test', password: 'silver-forest-river-9' })).status).toBe(200);
    const attempts: [string, string, unknown?][] = [
      ['POST', '/api/app-profiles', { name: 'Mine', cloud: 'global' }],
      ['PATCH', `/api/app-profiles/${profile.profileId}`, { name: 'Renamed' }],
      ['POST', `/api/app-profiles/${profile.profileId}/reauthorize`, { account: 'current' }],
      ['POST', `/api/app-profiles/${profile.profileId}/check`, {}],
      ['POST', '/api/app-profiles/delete', { ids: [profile.profileId] }],
      ['GET', `/api/app-profiles/${profile.profileId}/directory?type=user`],
      ['POST', '/api/users', { signInType: 'local', emails: ['new@acme-partner.test'], role: 'administrator' }],
      ['PATCH', `/api/users/${target.id}`, { role: 'administrator' }],
      ['POST', '/api/users/delete', { ids: [target.id, owner.userId] }],
      ['POST', `/api/users/${target.id}/download-members`, {}],
      ['GET', '/api/audit'],
    ];
    const before = await snapshotTables(portal.services.db, DATA_TABLES.filter((t) => t !== 'sessions'));
    for (const [method, path, body] of attempts) {
      const res = await member.request(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(403);
    }
    expect(changedTables(before, await snapshotTables(portal.services.db, DATA_TABLES.filter((t) => t !== 'sessions')))).toEqual([]);
    expect((await owner.client.get(`/api/app-profiles/${profile.profileId}`)).body.name).toBe('Contoso');
  });
});
