import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ApiClient, signUpPartner } from '../support/api-client';
import { testEngines } from '../support/engines';
import { AdminBrowser, CONTOSO, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { startTestPortal } from '../support/portal';
import { SandboxUserAgent } from '../support/sandbox-user-agent';

const SALES = 'c1c1c1c1-0001-4000-8000-000000000001';

/**
 * Administrator rights earned through an added Microsoft 365 group follow the group's current entry and
 * membership at every request of an open session, not what was true at sign-in (issue 8, item 2).
 * alex@contoso.com is added as a Member and is in the Sales group, added as Administrator; diego is in
 * Sales through the nested Sales EMEA group and signs in through it (a member record).
 */
describe.each(testEngines())('administrator rights through a group on %s', (engine) => {
  async function contosoWithSalesAdmins() {
    const portal = await startTestPortal(engine);
    try {
      const owner = await signUpPartner(portal.url, 'Contoso Partner');
      const outcome = await new AdminBrowser(owner.client).createProfile('Contoso M365', { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
      expect(outcome.result, outcome.location).toBe('created');
      const profileId = outcome.profileId!;
      const sandbox = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(`${portal.sandbox!.baseUrl}/_sandbox${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
        expect(res.status, `${method} ${path}`).toBeLessThan(300);
        return res.status === 204 ? null : ((await res.json()) as { id: string });
      };
      const objectId = async (upn: string) => (await sandbox('PATCH', `/tenants/${CONTOSO.id}/users/${upn}`, {}))!.id.toLowerCase();
      const insertEntry = async (kind: 'user' | 'group', msObjectId: string, email: string, role: 'administrator' | 'member') => {
        const id = randomUUID();
        const now = new Date().toISOString();
        await portal.services.db
          .insertInto('users')
          .values({ id, partner_id: owner.partnerId, email, email_key: email, display_name: email, password_hash: null, role, is_owner: 0, sign_in_type: 'microsoft365', kind, status: 'active', app_profile_id: profileId, ms_tenant_id: CONTOSO.id, ms_object_id: msObjectId, created_at: now, updated_at: now })
          .execute();
        return id;
      };
      await insertEntry('user', await objectId('alex@contoso.com'), 'alex@contoso.com', 'member');
      const salesEntry = await insertEntry('group', SALES, 'sales@contoso.com', 'administrator');
      for (const upn of ['alex@contoso.com', 'diego@contoso.com']) {
        await portal.services.db.insertInto('group_members').values({ partner_id: owner.partnerId, group_user_id: salesEntry, member_object_id: await objectId(upn) }).execute();
      }
      const signIn = async (email: string): Promise<ApiClient> => {
        const client = new ApiClient(portal.url);
        const start = await client.get(`/auth/microsoft/sign-in?email=${encodeURIComponent(email)}`);
        const redirect = await new SandboxUserAgent().authorize(new URL(start.headers.get('location')!), { email, password: SAMPLE_PASSWORD });
        const callback = await client.get(`${redirect.pathname}${redirect.search}`);
        expect(callback.headers.get('location')).toBe('/');
        const session = await client.get('/api/session');
        expect(session.body.user).toMatchObject({ email, role: 'administrator' });
        // The session works on an administrator route before anything changes.
        expect((await client.get('/api/users')).status).toBe(200);
        return client;
      };
      return { portal, owner, profileId, salesEntry, sandbox, signIn };
    } catch (error) {
      await portal.close();
      throw error;
    }
  }

  const usersStatus = async (client: ApiClient) => (await client.get('/api/users')).status;

  it('lowering the group entry to Member takes the rights away at the next request of open sessions', async () => {
    const { portal, owner, salesEntry, signIn } = await contosoWithSalesAdmins();
    try {
      const alex = await signIn('alex@contoso.com');
      const diego = await signIn('diego@contoso.com');
      expect((await owner.client.patch(`/api/users/${salesEntry}`, { role: 'member' })).status).toBe(200);
      expect(await usersStatus(alex)).toBe(403);
      expect(await usersStatus(diego)).toBe(403);
      // Still signed in, as Members.
      expect((await alex.get('/api/session')).body.user.role).toBe('member');
      expect((await diego.get('/api/session')).body.user.role).toBe('member');
      // And back: the rights return with the group's role.
      expect((await owner.client.patch(`/api/users/${salesEntry}`, { role: 'administrator' })).status).toBe(200);
      expect(await usersStatus(alex)).toBe(200);
    } finally {
      await portal.close();
    }
  });

  it('removing the group entry takes the rights away at the next request of open sessions', async () => {
    const { portal, owner, salesEntry, signIn } = await contosoWithSalesAdmins();
    try {
      const alex = await signIn('alex@contoso.com');
      expect((await owner.client.post('/api/users/delete', { ids: [salesEntry] })).status).toBe(200);
      expect(await usersStatus(alex)).toBe(403);
      expect((await alex.get('/api/session')).body.user.role).toBe('member');
    } finally {
      await portal.close();
    }
  });

  it('the person leaving the group in the tenant (seen by a directory sync run) loses the rights at the next request', async () => {
    const { portal, profileId, sandbox, signIn } = await contosoWithSalesAdmins();
    try {
      const alex = await signIn('alex@contoso.com');
      await sandbox('DELETE', `/tenants/${CONTOSO.id}/groups/${SALES}/members/alex@contoso.com`);
      await portal.services.directorySync.syncProfile(profileId);
      expect(await usersStatus(alex)).toBe(403);
      expect((await alex.get('/api/session')).body.user.role).toBe('member');
    } finally {
      await portal.close();
    }
  });
});
