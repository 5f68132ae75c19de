import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, signUpPartner } from '../support/api-client';
import { testEngines } from '../support/engines';
import { AdminBrowser, CONTOSO, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../support/portal';
import { SandboxUserAgent } from '../support/sandbox-user-agent';

const SALES = 'c1c1c1c1-0001-4000-8000-000000000001';

/**
 * Issue 10, section 1: while the tenant-wide consent stands, Microsoft 365 users keep signing in when their app
 * profile's authorization has lapsed; once the tenant's consent is removed they are refused with that reason.
 */
describe.each(testEngines())('sign-in with a lapsed app profile on %s', (engine) => {
  let portal: TestPortal;
  let partner: Awaited<ReturnType<typeof signUpPartner>>;
  let profileId: string;
  const sandbox = async (method: string, path: string, body: unknown = method === 'POST' ? {} : undefined) => {
    const res = await fetch(`${portal.sandbox!.baseUrl}/_sandbox${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    expect(res.status, `${method} ${path}`).toBeLessThan(300);
    return res.status === 204 ? null : ((await res.json()) as Record<string, unknown>);
  };
  const objectId = async (upn: string) => String((await sandbox('PATCH', `/tenants/${CONTOSO.id}/users/${encodeURIComponent(upn)}`, {}))!.id).toLowerCase();
  const graphRequests = async () => Number((await sandbox('GET', `/requests?tenantId=${CONTOSO.id}`))!.requests);

  async function insertEntry(kind: 'user' | 'group', email: string, objectIdValue: string, role: 'administrator' | 'member'): Promise<string> {
    const id = randomUUID();
    const now = new Date().toISOString();
    await portal.services.db
      .insertInto('users')
      .values({ id, partner_id: partner.partnerId, email, email_key: email, display_name: email.split('@')[0], password_hash: null, role, is_owner: 0, sign_in_type: 'microsoft365', kind, status: 'active', app_profile_id: profileId, ms_tenant_id: CONTOSO.id, ms_object_id: objectIdValue, created_at: now, updated_at: now })
      .execute();
    return id;
  }

  /** A person's browser: signs in at the sandbox and brings the answer back to the portal. */
  async function signIn(email: string): Promise<{ client: ApiClient; location: string | null }> {
    const client = new ApiClient(portal.url);
    const start = await client.get(`/auth/microsoft/sign-in?email=${encodeURIComponent(email)}`);
    expect(start.status).toBe(303);
    const redirect = await new SandboxUserAgent().authorize(new URL(start.headers.get('location')!), { email, password: SAMPLE_PASSWORD });
    const callback = await client.get(`${redirect.pathname}${redirect.search}`);
    expect(callback.status).toBe(303);
    return { client, location: callback.headers.get('location') };
  }

  const profileStatus = async () => (await portal.services.db.selectFrom('app_profiles').select(['status', 'status_code']).where('id', '=', profileId).executeTakeFirstOrThrow());
  const lastSignInAudit = async () => {
    const row = await portal.services.db.selectFrom('audit_events').selectAll().where('partner_id', '=', partner.partnerId).where('action', '=', 'session.signin').orderBy('at', 'desc').limit(1).executeTakeFirstOrThrow();
    return { ...row, details: JSON.parse(row.details ?? '{}') as Record<string, unknown> };
  };

  beforeAll(async () => {
    portal = await startTestPortal(engine);
    partner = await signUpPartner(portal.url, 'Lapse Partner');
    const outcome = await new AdminBrowser(partner.client).createProfile('Contoso M365', { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
    expect(outcome.result, outcome.location).toBe('created');
    profileId = outcome.profileId!;
    // adele is added directly as an administrator, alex directly as a member (Sales may raise him);
    // diego only through Sales, as a member of its nested group Sales EMEA.
    await insertEntry('user', 'adele@contoso.com', await objectId('adele@contoso.com'), 'administrator');
    await insertEntry('user', 'alex@contoso.com', await objectId('alex@contoso.com'), 'member');
    await insertEntry('group', 'sales@contoso.com', SALES, 'administrator');
  });
  afterAll(async () => {
    await portal?.close();
  });

  it('lets a directly added user and a nested group member in after the Global Administrator’s sessions were revoked and the profile expired', async () => {
    await sandbox('POST', `/tenants/${CONTOSO.id}/users/${CONTOSO.admin}/revoke-sessions`);
    const check = await partner.client.post(`/api/app-profiles/${profileId}/check`, {});
    expect(check.status).toBe(200);
    expect(await profileStatus()).toMatchObject({ status: 'authorization_expired', status_code: 'AADSTS50173' });

    // A directly added user: no Graph call at all.
    const before = await graphRequests();
    const adele = await signIn('adele@contoso.com');
    expect(adele.location).toBe('/');
    expect(await graphRequests()).toBe(before);
    expect((await adele.client.get('/api/session')).body.user).toMatchObject({ email: 'adele@contoso.com', role: 'administrator', signInType: 'microsoft365' });

    // A directly added Member whom Sales raises: one check of their own memberships, with their own token.
    const alex = await signIn('alex@contoso.com');
    expect(alex.location).toBe('/');
    expect((await alex.client.get('/api/session')).body.user).toMatchObject({ email: 'alex@contoso.com', role: 'administrator' });
    expect(await graphRequests()).toBe(before + 1);

    // The nested member: membership confirmed with their own token, the profile's is never touched.
    const diego = await signIn('diego@contoso.com');
    expect(diego.location).toBe('/');
    expect((await diego.client.get('/api/session')).body.user).toMatchObject({ email: 'diego@contoso.com', role: 'administrator', signInType: 'microsoft365' });
    expect(await graphRequests()).toBe(before + 2);
    expect(await lastSignInAudit()).toMatchObject({ outcome: 'success', actor_email: 'diego@contoso.com', details: { via: 'group' } });
    expect((await profileStatus()).status).toBe('authorization_expired');
  });

  it('still refuses a person who left the group while the profile is expired', async () => {
    await sandbox('DELETE', `/tenants/${CONTOSO.id}/groups/c1c1c1c1-0002-4000-8000-000000000002/members/diego@contoso.com`);
    expect((await signIn('diego@contoso.com')).location).toBe('/signin?error=REMOVED_FROM_GROUP');
    await sandbox('POST', `/tenants/${CONTOSO.id}/groups/c1c1c1c1-0002-4000-8000-000000000002/members`, { member: 'diego@contoso.com' });
    expect((await signIn('diego@contoso.com')).location).toBe('/');
  });

  it('refuses both with the consent reason once the tenant’s consent is removed', async () => {
    await sandbox('POST', `/tenants/${CONTOSO.id}/revoke-consent`);
    for (const email of ['adele@contoso.com', 'diego@contoso.com']) {
      const refused = await signIn(email);
      expect(refused.location, email).toBe('/signin?error=CONSENT_REMOVED');
      expect(refused.client.jar.get('tg_session')).toBeUndefined();
    }
    // Microsoft refused the sign-in itself, before the portal knew who it was: audited without a partner.
    const refusal = await portal.services.db.selectFrom('audit_events').select(['outcome', 'details']).where('partner_id', 'is', null).where('action', '=', 'session.signin').orderBy('at', 'desc').limit(1).executeTakeFirstOrThrow();
    expect({ outcome: refusal.outcome, details: JSON.parse(refusal.details ?? '{}') }).toMatchObject({ outcome: 'failure', details: { method: 'microsoft365', code: 'CONSENT_REMOVED' } });
  });
});
