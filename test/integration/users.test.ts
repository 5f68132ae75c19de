import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, signUpPartner } from '../support/api-client';
import { insertLocalUser } from '../support/db-fixtures';
import type { KyselyPlugin } from 'kysely';
import { createUserStore, insertUserRow, newUserRow } from '../../src/server/users/store';
import * as m016 from '../../src/server/db/migrations/016_email_display_names';
import { testEngines } from '../support/engines';
import { AdminBrowser, CONTOSO, NORTHWIND, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../support/portal';

const STRONG_PASSWORD = 'amber-meadow-falcon-93';

describe.each(testEngines())('user management on %s', (engine) => {
  let portal: TestPortal;
  const sandbox = (path: string, method = 'POST', body: unknown = {}) =>
    fetch(`${portal.sandbox!.baseUrl}/_sandbox${path}`, { method, headers: { 'content-type': 'application/json' }, body: method === 'GET' ? undefined : JSON.stringify(body) });
  const db = () => portal.services.db;

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

  async function createProfile(browser: AdminBrowser, name: string, account: string = CONTOSO.admin) {
    const outcome = await browser.createProfile(name, { email: account, password: SAMPLE_PASSWORD, consent: 'accept' });
    expect(outcome.result, outcome.location).toBe('created');
    return outcome.profileId!;
  }

  async function contosoAdmin() {
    const admin = await newAdmin();
    return { ...admin, profileId: await createProfile(admin.browser, 'Contoso M365') };
  }

  const addM365 = (client: ApiClient, appProfileId: string, emails: string[], role = 'member') => client.post('/api/users', { signInType: 'microsoft365', emails, appProfileId, role });
  const addLocal = (client: ApiClient, emails: string[], role = 'member') => client.post('/api/users', { signInType: 'local', emails, role });
  const codes = (rejected: { email: string; code: string }[]) => Object.fromEntries(rejected.map((r) => [r.email, r.code]));
  const tokenOf = (url: string) => new URL(url).searchParams.get('token')!;
  const graphRequests = async (tenantId: string) => ((await (await sandbox(`/requests?tenantId=${tenantId}`, 'GET')).json()) as { requests: number }).requests;

  describe('list', () => {
    it('lists the tenant owner, marked, with filters by role and a LIKE-safe email search', async () => {
      const { client, email, partnerId } = await newAdmin();
      await insertLocalUser(db(), partnerId, { email: 'm_ember@acme-partner.test', password: STRONG_PASSWORD, role: 'member' });
      await insertLocalUser(db(), partnerId, { email: 'mxember@acme-partner.test', password: STRONG_PASSWORD, role: 'member' });
      const all = await client.get('/api/users');
      expect(all.status).toBe(200);
      expect(all.body.items).toHaveLength(3);
      expect(all.body.items.find((u: { email: string }) => u.email === email)).toMatchObject({ isOwner: true, role: 'administrator', signInType: 'local', kind: 'user', status: 'active', progress: null, appProfileId: null });
      const members = await client.get('/api/users?role=member');
      expect(members.body.items.map((u: { email: string }) => u.email).sort()).toEqual(['m_ember@acme-partner.test', 'mxember@acme-partner.test']);
      // "_" is a literal underscore, not a LIKE wildcard; search ignores case.
      const search = await client.get('/api/users?search=M_EMBER');
      expect(search.body.items.map((u: { email: string }) => u.email)).toEqual(['m_ember@acme-partner.test']);
      expect((await client.get('/api/users?search=%25')).body.items).toEqual([]);
      const paged = await client.get('/api/users?limit=2');
      expect(paged.body.items).toHaveLength(2);
      const rest = await client.get(`/api/users?limit=2&cursor=${encodeURIComponent(paged.body.nextCursor)}`);
      expect(rest.body.items).toHaveLength(1);
      expect(rest.body.nextCursor).toBeNull();
    });
  });

  describe('names', () => {
    it('shows the address of a user whose name is not known, never a name made from it (migration 016 mends old rows)', async () => {
      const { client, email, partnerId } = await newAdmin();
      const invitee = `Pat.Doe${Date.now()}@Example.test`;
      expect((await addLocal(client, [invitee])).status).toBe(200);
      const listed = (await client.get('/api/users')).body.items as { email: string; displayName: string }[];
      expect(listed.find((u) => u.email === email)?.displayName).toBe(email);
      expect(listed.find((u) => u.email === invitee.toLowerCase())?.displayName).toBe(invitee.toLowerCase());
      // A row made before (name = the address's local part) gets the address; a real name stays.
      const old = newUserRow({ partner_id: partnerId, email: `pat${Date.now()}@old-names.test`, role: 'member' });
      const named = newUserRow({ partner_id: partnerId, email: `adele${Date.now()}@old-names.test`, role: 'member', display_name: 'Adele Vance' });
      await insertUserRow(db(), { ...old, display_name: old.email_key.split('@')[0]! });
      await insertUserRow(db(), named);
      await m016.up(db() as never);
      const after = (await client.get('/api/users?search=old-names.test')).body.items as { email: string; displayName: string }[];
      expect(Object.fromEntries(after.map((u) => [u.email, u.displayName]))).toEqual({ [old.email]: old.email, [named.email]: 'Adele Vance' });
    });
  });

  describe('sorted and filtered lists', () => {
    type Listed = { email: string; displayName: string; role: string; signInType: string; status: string };
    const field = { email: 'email', name: 'displayName', role: 'role', signInType: 'signInType', status: 'status' } as const;

    /** A partner with 23 entries whose names, roles, sign-in types and statuses repeat (ties broken by email). */
    async function crowdedPartner() {
      const admin = await newAdmin();
      const domain = `sort${crypto.randomUUID().slice(0, 8)}.test`;
      const rows = Array.from({ length: 22 }, (_, i) =>
        newUserRow({
          partner_id: admin.partnerId,
          email: `p${String(i).padStart(2, '0')}@${domain}`,
          display_name: ['Zoe Vance', 'adele Vance', 'Bo Li', 'Megan Bowen'][i % 4]!,
          role: i % 3 === 0 ? 'administrator' : 'member',
          sign_in_type: i % 2 === 0 ? 'local' : 'microsoft365',
          status: (['invited', 'active', 'disabled'] as const)[i % 3]!,
          ...(i % 2 === 0 && i % 3 === 0 ? { activation_token_hash: `hash-${i}-${engine}`, activation_expires_at: new Date(Date.now() + 3_600_000).toISOString() } : {}),
        }),
      );
      for (const row of rows) await insertUserRow(db(), row);
      return { ...admin, domain };
    }

    async function pageThrough(client: ApiClient, params: string): Promise<{ items: Listed[]; totals: number[] }> {
      const items: Listed[] = [];
      const totals: number[] = [];
      let cursor: string | null = '';
      while (cursor !== null) {
        const res = await client.get(`/api/users?limit=4&${params}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        items.push(...(res.body.items as Listed[]));
        totals.push(res.body.total as number);
        cursor = res.body.nextCursor as string | null;
      }
      return { items, totals };
    }

    it('pages through every sort key in both orders and sees every row once, in order, with the total on every page', async () => {
      const { client } = await crowdedPartner();
      for (const sort of ['email', 'name', 'role', 'signInType', 'status'] as const) {
        for (const order of ['asc', 'desc'] as const) {
          const { items, totals } = await pageThrough(client, `sort=${sort}&order=${order}`);
          expect(items).toHaveLength(23);
          expect(new Set(items.map((u) => u.email)).size, `${sort} ${order}`).toBe(23);
          expect(new Set(totals)).toEqual(new Set([23]));
          // Sorted by the column, ties by email, in the asked order (compared as each engine's ORDER BY does).
          const keys = items.map((u) => [u[field[sort]], u.email] as const);
          for (let i = 1; i < keys.length; i++) {
            const [a, b] = order === 'asc' ? [keys[i - 1]!, keys[i]!] : [keys[i]!, keys[i - 1]!];
            if (sort !== 'name') expect(a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]), `${sort} ${order} at ${i}`).toBe(true);
            else if (a[0] === b[0]) expect(a[1] < b[1], `${sort} ${order} at ${i}`).toBe(true);
          }
          if (sort === 'name') {
            // Each name's rows are together (one run per name), whichever collation the engine uses.
            const runs = items.map((u) => u.displayName).filter((n, i, all) => i === 0 || all[i - 1] !== n);
            expect(new Set(runs).size).toBe(runs.length);
          }
        }
      }
    });

    it('filters by sign-in type and status, and the total counts the same filters', async () => {
      const { client, domain } = await crowdedPartner();
      const microsoft = await pageThrough(client, 'signInType=microsoft365&sort=name');
      expect(microsoft.items).toHaveLength(11);
      expect(microsoft.items.every((u) => u.signInType === 'microsoft365')).toBe(true);
      expect(microsoft.totals.every((t) => t === 11)).toBe(true);
      const disabledLocal = await client.get('/api/users?signInType=local&status=disabled');
      expect(disabledLocal.body.items.map((u: Listed) => u.email)).toEqual(['p02', 'p08', 'p14', 'p20'].map((p) => `${p}@${domain}`));
      expect(disabledLocal.body.total).toBe(4);
      const vance = await client.get('/api/users?search=vance&status=active&limit=1');
      expect(vance.body.items).toHaveLength(1);
      expect(vance.body.total).toBe(4);
    });

    it('refuses a cursor made for another sort or order, or not made by the portal, with 400', async () => {
      const { client } = await crowdedPartner();
      const first = await client.get('/api/users?limit=4&sort=name');
      for (const params of ['sort=role', 'sort=name&order=desc', 'sort=email']) {
        const res = await client.get(`/api/users?limit=4&${params}&cursor=${encodeURIComponent(first.body.nextCursor)}`);
        expect(res.status, params).toBe(400);
        expect(res.body.error.code).toBe('INVALID_CURSOR');
      }
      expect((await client.get('/api/users?cursor=not-a-cursor')).status).toBe(400);
    });
  });

  describe('local users', () => {
    it('invites a local user with a single-use 72-hour link that sets the password, then the user signs in', async () => {
      const { client, email: ownerEmail } = await newAdmin();
      const invitee = `Invitee${Date.now()}@Example.test`;
      const res = await addLocal(client, [invitee], 'administrator');
      expect(res.status).toBe(200);
      expect(res.body.rejected).toEqual([]);
      expect(res.body.added).toHaveLength(1);
      expect(res.body.added[0]).toMatchObject({ email: invitee.toLowerCase(), signInType: 'local', kind: 'user', role: 'administrator', status: 'invited', isOwner: false, appProfileId: null });
      expect(res.body.invitations).toHaveLength(1);
      const url = res.body.invitations[0].activationUrl as string;
      expect(url.startsWith(`${portal.url}/activate?token=`)).toBe(true);
      const token = tokenOf(url);
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);

      const row = await db().selectFrom('users').selectAll().where('id', '=', res.body.added[0].id).executeTakeFirstOrThrow();
      expect(row.password_hash).toBeNull();
      expect(row.activation_token_hash).not.toContain(token);
      const life = Date.parse(row.activation_expires_at!) - Date.now();
      expect(life).toBeGreaterThan(71.9 * 3600_000);
      expect(life).toBeLessThanOrEqual(72 * 3600_000);
      // The token is in no table (only its hash) and the list never shows it.
      for (const table of ['users', 'audit_events', 'sessions'] as const) {
        expect(JSON.stringify(await db().selectFrom(table).selectAll().execute()), table).not.toContain(token);
      }
      expect(JSON.stringify((await client.get('/api/users')).body)).not.toContain(token);

      const visitor = new ApiClient(portal.url);
      const early = await visitor.post('/api/session', { email: invitee, password: STRONG_PASSWORD });
      expect(early.status).toBe(401);
      expect(early.body.error.code).toBe('INVALID_CREDENTIALS');

      const weak = await visitor.post('/api/activate', { token, password: 'password' });
      expect(weak.status).toBe(400);
      expect(weak.body.error.details.field).toBe('password');

      const activated = await visitor.post('/api/activate', { token, password: STRONG_PASSWORD });
      expect(activated.status).toBe(200);
      expect(activated.body).toEqual({ email: invitee.toLowerCase() });
      const again = await visitor.post('/api/activate', { token, password: 'another-strong-phrase-77' });
      expect(again.status).toBe(400);
      expect(again.body.error.code).toBe('ACTIVATION_INVALID');

      const signedIn = await visitor.post('/api/session', { email: invitee, password: STRONG_PASSWORD });
      expect(signedIn.status).toBe(200);
      expect(signedIn.body.user).toMatchObject({ email: invitee.toLowerCase(), role: 'administrator', isOwner: false });
      expect((await client.get(`/api/users?search=${encodeURIComponent(invitee)}`)).body.items[0].status).toBe('active');

      const audit = await client.get('/api/audit?action=user.add');
      expect(audit.body.items[0]).toMatchObject({ actorEmail: ownerEmail, outcome: 'success', targetName: invitee.toLowerCase() });
      const activations = await client.get('/api/audit?action=user.activate');
      expect(activations.body.items[0]).toMatchObject({ outcome: 'success', targetName: invitee.toLowerCase() });
      expect(JSON.stringify(activations.body)).not.toContain(STRONG_PASSWORD);
    });

    it('refuses expired and unknown activation tokens', async () => {
      const { client } = await newAdmin();
      const res = await addLocal(client, [`late${Date.now()}@example.test`]);
      const token = tokenOf(res.body.invitations[0].activationUrl);
      await db().updateTable('users').set({ activation_expires_at: new Date(Date.now() - 1000).toISOString() }).where('id', '=', res.body.added[0].id).execute();
      const visitor = new ApiClient(portal.url);
      const expired = await visitor.post('/api/activate', { token, password: STRONG_PASSWORD });
      expect(expired.status).toBe(400);
      expect(expired.body.error.code).toBe('ACTIVATION_INVALID');
      const unknown = await visitor.post('/api/activate', { token: 'x'.repeat(43), password: STRONG_PASSWORD });
      expect(unknown.body.error.code).toBe('ACTIVATION_INVALID');
      const row = await db().selectFrom('users').select(['status', 'password_hash']).where('id', '=', res.body.added[0].id).executeTakeFirstOrThrow();
      expect(row).toEqual({ status: 'invited', password_hash: null });
    });

    it('rejects malformed, duplicate, already added and taken addresses one by one and adds the rest', async () => {
      const other = await newAdmin('Other Partner');
      const { client } = await newAdmin();
      const fresh = `fresh${Date.now()}@example.test`;
      const existing = `existing${Date.now()}@example.test`;
      expect((await addLocal(client, [existing])).body.added).toHaveLength(1);
      const res = await addLocal(client, ['not-an-email', fresh, fresh.toUpperCase(), existing, other.email, 'a@b', ` ${fresh.replace('fresh', 'spaced')} `]);
      expect(res.status).toBe(200);
      expect(res.body.added.map((u: { email: string }) => u.email)).toEqual([fresh, fresh.replace('fresh', 'spaced')]);
      expect(codes(res.body.rejected)).toEqual({
        'not-an-email': 'INVALID_EMAIL',
        [fresh]: 'DUPLICATE_IN_REQUEST',
        [existing]: 'ALREADY_ADDED',
        [other.email]: 'EMAIL_TAKEN',
        'a@b': 'INVALID_EMAIL',
      });
      expect(res.body.rejected.every((r: { message: string }) => r.message.length > 10)).toBe(true);
      expect(res.body.invitations.map((i: { email: string }) => i.email)).toEqual([fresh, fresh.replace('fresh', 'spaced')]);
    });

    it('validates the request shape', async () => {
      const { client, profileId } = await contosoAdmin();
      const withProfile = await client.post('/api/users', { signInType: 'local', emails: ['x@example.test'], appProfileId: profileId, role: 'member' });
      expect(withProfile.status).toBe(400);
      expect(withProfile.body.error.details.field).toBe('appProfileId');
      const noProfile = await client.post('/api/users', { signInType: 'microsoft365', emails: [CONTOSO.user], role: 'member' });
      expect(noProfile.status).toBe(400);
      expect(noProfile.body.error.details.field).toBe('appProfileId');
      expect((await addLocal(client, [])).status).toBe(400);
      expect((await addLocal(client, Array.from({ length: 501 }, (_, i) => `u${i}@example.test`))).status).toBe(400);
      expect((await addLocal(client, [`${'a'.repeat(320)}@example.test`])).status).toBe(400);
      expect((await client.post('/api/users', { signInType: 'local', emails: ['x@example.test'], role: 'owner' })).status).toBe(400);
    });
  });

  describe('Microsoft 365 users and groups', () => {
    it('checks each address in the profile’s tenant, adds the valid ones and rejects the rest with the reason', async () => {
      const { client, profileId, email: ownerEmail } = await contosoAdmin();
      const before = await graphRequests(CONTOSO.id);
      const foreignOnly = await addM365(client, profileId, ['someone@fabrikam.example']);
      expect(codes(foreignOnly.body.rejected)).toEqual({ 'someone@fabrikam.example': 'FOREIGN_DOMAIN' });
      // Only the tenant's domain list was read: the foreign address was never looked up in Graph.
      expect((await graphRequests(CONTOSO.id)) - before).toBe(1);

      const res = await addM365(client, profileId, ['Alex@Contoso.com', 'sales@contoso.com', 'disabled@contoso.com', 'ghost@contoso.com', 'nora@northwind.com', 'bad@@contoso.com', 'alex@contoso.com'], 'administrator');
      expect(res.status).toBe(200);
      expect(res.body.added).toHaveLength(2);
      const [alex, sales] = res.body.added;
      expect(alex).toMatchObject({ email: 'alex@contoso.com', signInType: 'microsoft365', kind: 'user', role: 'administrator', status: 'active', appProfileId: profileId, appProfileName: 'Contoso M365', isOwner: false });
      expect(sales).toMatchObject({ email: 'sales@contoso.com', kind: 'group', displayName: 'Sales' });
      expect(codes(res.body.rejected)).toEqual({
        'disabled@contoso.com': 'ACCOUNT_DISABLED',
        'ghost@contoso.com': 'NOT_FOUND_IN_TENANT',
        'nora@northwind.com': 'FOREIGN_DOMAIN',
        'bad@@contoso.com': 'INVALID_EMAIL',
        'alex@contoso.com': 'DUPLICATE_IN_REQUEST',
      });
      const row = await db().selectFrom('users').selectAll().where('id', '=', alex.id).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ ms_tenant_id: CONTOSO.id, password_hash: null, email_key: 'alex@contoso.com' });
      expect(row.ms_object_id).toMatch(/^[0-9a-f-]{36}$/);

      const again = await addM365(client, profileId, ['alex@contoso.com', 'sales@contoso.com']);
      expect(codes(again.body.rejected)).toEqual({ 'alex@contoso.com': 'ALREADY_ADDED', 'sales@contoso.com': 'ALREADY_ADDED' });
      expect(again.body.added).toEqual([]);

      const audit = await client.get('/api/audit?action=user.add&outcome=success');
      expect(audit.body.items.find((e: { targetName: string }) => e.targetName === 'alex@contoso.com')).toMatchObject({
        actorEmail: ownerEmail,
        details: { tenantId: CONTOSO.id, microsoftAccount: CONTOSO.admin, kind: 'user' },
      });
      const failures = await client.get('/api/audit?action=user.add&outcome=failure');
      expect(failures.body.items.map((e: { details: { code: string } }) => e.details.code)).toContain('ACCOUNT_DISABLED');
    });

    it('answers for an address by the tenant it is checked in: a user in Contoso is nothing in Northwind', async () => {
      const { client, browser, profileId } = await contosoAdmin();
      const northwind = await createProfile(browser, 'Northwind', NORTHWIND.admin);
      expect((await addM365(client, profileId, [CONTOSO.user])).body.added).toHaveLength(1);
      const other = await addM365(client, northwind, [CONTOSO.user, 'ghost@northwind.com', 'nora@northwind.com']);
      expect(codes(other.body.rejected)).toEqual({ [CONTOSO.user]: 'ALREADY_ADDED', 'ghost@northwind.com': 'NOT_FOUND_IN_TENANT' });
      const second = await newAdmin();
      const secondNorthwind = await createProfile(second.browser, 'Northwind', NORTHWIND.admin);
      const fresh = await addM365(second.client, secondNorthwind, [CONTOSO.user]);
      expect(codes(fresh.body.rejected)).toEqual({ [CONTOSO.user]: 'FOREIGN_DOMAIN' });
    });

    it('downloads an added group’s transitive members in the background, with progress, and counts in-use per profile', async () => {
      const { client, profileId, partnerId } = await contosoAdmin();
      const res = await addM365(client, profileId, ['sales@contoso.com', 'adele@contoso.com']);
      const group = res.body.added.find((u: { kind: string }) => u.kind === 'group');
      expect(group.progress).toEqual({ done: 0, total: 0 });
      await expect(portal.services.users.downloadGroupMembers(partnerId, group.id)).resolves.toEqual({ members: 2 });
      const members = await db().selectFrom('group_members').select('member_object_id').where('group_user_id', '=', group.id).execute();
      const alexId = await objectIdOf(client, profileId, 'alex');
      const diegoId = await objectIdOf(client, profileId, 'diego');
      expect(members.map((m) => m.member_object_id).sort()).toEqual([alexId, diegoId].sort());
      const listed = (await client.get('/api/users?search=sales')).body.items[0];
      expect(listed).toMatchObject({ progress: null, syncError: null });
      expect(listed.lastSyncedAt).toBeTruthy();
      expect((await client.get(`/api/app-profiles/${profileId}`)).body.inUse).toEqual({ users: 1, groups: 1 });

      // A profile in use stays; remove its last user and group and it can be deleted.
      const blocked = await client.post('/api/app-profiles/delete', { ids: [profileId] });
      expect(blocked.body.blocked).toHaveLength(1);
      const removed = await client.post('/api/users/delete', { ids: res.body.added.map((u: { id: string }) => u.id) });
      expect(removed.body.deleted).toHaveLength(2);
      expect(await db().selectFrom('group_members').select('member_object_id').where('group_user_id', '=', group.id).execute()).toEqual([]);
      const deleted = await client.post('/api/app-profiles/delete', { ids: [profileId] });
      expect(deleted.body.deleted).toEqual([profileId]);
    });

    it('lists each group with its member count and last download time, kept on the group as its members change', async () => {
      const { client, profileId, partnerId } = await contosoAdmin();
      // A group of this test's own, so removing a member changes no other test's group.
      const created = await sandbox(`/tenants/${CONTOSO.id}/groups`, 'POST', { displayName: 'Count Crew', mail: 'count-crew@contoso.com', members: ['alex@contoso.com', 'adele@contoso.com', 'Sales EMEA'] });
      expect(created.status).toBe(201);
      const crew = (await created.json()) as { id: string };
      const res = await addM365(client, profileId, ['count-crew@contoso.com', 'sales@contoso.com', 'megan@contoso.com']);
      expect(res.body.added).toHaveLength(3);
      const idOf = (email: string) => res.body.added.find((u: { email: string }) => u.email === email).id as string;
      await portal.services.users.downloadGroupMembers(partnerId, idOf('count-crew@contoso.com'));
      await portal.services.users.downloadGroupMembers(partnerId, idOf('sales@contoso.com'));

      const listed = async () => Object.fromEntries((await client.get('/api/users?signInType=microsoft365')).body.items.map((u: { email: string; memberCount: number | null; lastSyncedAt: string | null }) => [u.email, u]));
      const before = await listed();
      // alex, adele and diego (through Sales EMEA); Sales: alex and diego; a person has no members.
      expect(before['count-crew@contoso.com']).toMatchObject({ memberCount: 3, progress: null });
      expect(before['sales@contoso.com']).toMatchObject({ memberCount: 2 });
      expect(before['megan@contoso.com'].memberCount).toBeNull();
      expect(Date.parse(before['count-crew@contoso.com'].lastSyncedAt)).toBeGreaterThan(Date.now() - 60_000);

      // The count follows the next download.
      expect((await sandbox(`/tenants/${CONTOSO.id}/groups/${crew.id}/members/adele@contoso.com`, 'DELETE')).status).toBe(204);
      expect((await client.post(`/api/users/${idOf('count-crew@contoso.com')}/download-members`)).status).toBe(200);
      await portal.services.users.downloadGroupMembers(partnerId, idOf('count-crew@contoso.com'));
      const after = await listed();
      expect(after['count-crew@contoso.com'].memberCount).toBe(2);
      expect(after['sales@contoso.com'].memberCount).toBe(2);

      // No query per group: the page, counts included, is one statement.
      let queries = 0;
      const counter: KyselyPlugin = { transformQuery: (args) => ((queries += 1), args.node), transformResult: async (args) => args.result };
      const page = await createUserStore(db().withPlugin(counter), engine).list(partnerId, { signInType: 'microsoft365', limit: 50 });
      expect(page?.rows.map((row) => [row.email, row.member_count === null ? null : Number(row.member_count)]).sort()).toEqual([
        ['count-crew@contoso.com', 2],
        ['megan@contoso.com', null],
        ['sales@contoso.com', 2],
      ]);
      expect(queries).toBe(1);

      // A live check at sign-in that finds a person joined or left a group moves that group's count by one.
      const store = createUserStore(db(), engine);
      const crewId = idOf('count-crew@contoso.com');
      const countOf = async () => (await listed())['count-crew@contoso.com'].memberCount;
      await store.setPersonMemberships(partnerId, 'f00dcafe-0000-4000-8000-000000000001', [crewId], []);
      expect(await countOf()).toBe(3);
      // The same finding again changes nothing.
      await store.setPersonMemberships(partnerId, 'f00dcafe-0000-4000-8000-000000000001', [crewId], []);
      expect(await countOf()).toBe(3);
      await store.setPersonMemberships(partnerId, 'f00dcafe-0000-4000-8000-000000000001', [], [crewId]);
      expect(await countOf()).toBe(2);
      const stored = await db().selectFrom('group_members').select((eb) => eb.fn.countAll().as('n')).where('group_user_id', '=', crewId).executeTakeFirstOrThrow();
      expect(Number(stored.n)).toBe(2);
    });

    it('leaves progress and the error visible when the download fails, audits it, and a restart completes it', async () => {
      const { client, profileId, partnerId } = await contosoAdmin();
      const res = await addM365(client, profileId, ['support@contoso.com']);
      const group = res.body.added[0];
      await portal.services.users.downloadGroupMembers(partnerId, group.id);
      await sandbox('/faults', 'POST', { tenantId: CONTOSO.id, status: 500, requests: 1 });
      const restart = await client.post(`/api/users/${group.id}/download-members`);
      expect(restart.status).toBe(200);
      await expect(portal.services.users.downloadGroupMembers(partnerId, group.id)).rejects.toThrow();
      const listed = (await client.get('/api/users?search=support')).body.items[0];
      expect(listed.progress).toEqual({ done: 0, total: 0 });
      expect(listed.syncError.message).toMatch(/stopped after 0 of 0/);
      const audit = await client.get('/api/audit?action=user.group_members.download&outcome=failure');
      expect(audit.body.items[0]).toMatchObject({ targetId: group.id, details: { tenantId: CONTOSO.id } });
      // The failure is the group's own state, not a reading of the audit log: a purged log does not hide it.
      await db().deleteFrom('audit_events').where('partner_id', '=', partnerId).where('action', '=', 'user.group_members.download').execute();
      expect((await client.get('/api/users?search=support')).body.items[0].syncError.message).toMatch(/stopped after 0 of 0/);
      // The members from the first download are kept until a download completes.
      expect(await db().selectFrom('group_members').select('member_object_id').where('group_user_id', '=', group.id).execute()).toHaveLength(2);

      expect((await client.post(`/api/users/${group.id}/download-members`)).status).toBe(200);
      await expect(portal.services.users.downloadGroupMembers(partnerId, group.id)).resolves.toEqual({ members: 2 });
      const after = (await client.get('/api/users?search=support')).body.items[0];
      expect(after).toMatchObject({ progress: null, syncError: null });
    });

    it('refuses an expired profile with PROFILE_EXPIRED and adds nothing', async () => {
      const { client, browser, partnerId } = await newAdmin();
      const profileId = await createProfile(browser, 'Contoso via Megan', CONTOSO.admin2);
      expect((await sandbox(`/tenants/${CONTOSO.id}/users/${CONTOSO.admin2}/revoke-sessions`)).status).toBeLessThan(300);
      expect((await client.post(`/api/app-profiles/${profileId}/check`)).body.status).toBe('authorization_expired');
      const res = await addM365(client, profileId, [CONTOSO.user, 'diego@contoso.com']);
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('PROFILE_EXPIRED');
      expect(res.body.error.message).toMatch(/App authorization expired/);
      expect(res.body.error.message).toMatch(/Authorize the app profile again/);
      const browse = await client.get(`/api/app-profiles/${profileId}/directory?type=user&search=alex`);
      expect(browse.status).toBe(409);
      expect(browse.body.error.code).toBe('PROFILE_EXPIRED');
      const rows = await db().selectFrom('users').select('id').where('partner_id', '=', partnerId).where('sign_in_type', '=', 'microsoft365').execute();
      expect(rows).toEqual([]);
    });

    it('never leaves an orphan when the profile is deleted while users are being added through it', async () => {
      const { client, profileId, partnerId } = await contosoAdmin();
      // Slow the look-ups down (Graph throttles once for a second), and delete the profile meanwhile.
      await sandbox('/throttle', 'POST', { tenantId: CONTOSO.id, requests: 1, retryAfterSeconds: 1 });
      const adding = addM365(client, profileId, [CONTOSO.user, 'diego@contoso.com', 'sales@contoso.com']);
      await new Promise((r) => setTimeout(r, 300));
      const deleting = await client.post('/api/app-profiles/delete', { ids: [profileId] });
      const added = await adding;
      expect(added.status).toBe(200);
      const profileGone = deleting.body.deleted.includes(profileId);
      const rows = await db().selectFrom('users').select(['app_profile_id']).where('partner_id', '=', partnerId).where('sign_in_type', '=', 'microsoft365').execute();
      if (profileGone) {
        expect(rows).toEqual([]);
        expect(added.body.added).toEqual([]);
        expect(new Set(added.body.rejected.map((r: { code: string }) => r.code))).toEqual(new Set(['PROFILE_DELETED']));
      } else {
        expect(deleting.body.blocked[0].code).toBe('PROFILE_IN_USE');
        expect(rows.every((r) => r.app_profile_id === profileId)).toBe(true);
      }
      // Either way no user points at a missing profile.
      const orphans = await db()
        .selectFrom('users as u')
        .leftJoin('app_profiles as p', 'p.id', 'u.app_profile_id')
        .select('u.id')
        .where('u.app_profile_id', 'is not', null)
        .where('p.id', 'is', null)
        .execute();
      expect(orphans).toEqual([]);
      expect(profileGone).toBe(true);
    });

    it('runs adds and deletes of the same profile in parallel without orphans or 500s', async () => {
      for (let round = 0; round < 3; round++) {
        const { client, profileId, partnerId } = await contosoAdmin();
        const [add, del] = await Promise.all([addM365(client, profileId, [CONTOSO.user, 'sales@contoso.com']), client.post('/api/app-profiles/delete', { ids: [profileId] })]);
        expect(add.status === 200 || add.status === 404 || add.status === 409).toBe(true);
        expect(del.status).toBe(200);
        const rows = await db().selectFrom('users').select('id').where('partner_id', '=', partnerId).where('sign_in_type', '=', 'microsoft365').execute();
        const profile = await db().selectFrom('app_profiles').select('id').where('id', '=', profileId).executeTakeFirst();
        if (!profile) expect(rows).toEqual([]);
        else expect(del.body.blocked).toHaveLength(1);
      }
    });
  });

  describe('browse', () => {
    it('lists the tenant’s users and groups straight from Graph, searches and pages', async () => {
      const { client, profileId } = await contosoAdmin();
      for (let i = 0; i < 27; i++) {
        const upn = `pager${String(i).padStart(2, '0')}${engine}@contoso.com`;
        const created = await sandbox(`/tenants/${CONTOSO.id}/users`, 'POST', { userPrincipalName: upn, displayName: `Pager ${i}`, mail: upn, password: SAMPLE_PASSWORD });
        expect(created.status).toBeLessThan(300);
      }
      const users = await client.get(`/api/app-profiles/${profileId}/directory?type=user&search=alex`);
      expect(users.status).toBe(200);
      expect(users.body.items).toEqual([expect.objectContaining({ email: CONTOSO.user, kind: 'user' })]);
      const groups = await client.get(`/api/app-profiles/${profileId}/directory?type=group&search=sales`);
      expect(groups.body.items.map((g: { email: string }) => g.email).sort()).toEqual(['sales-emea@contoso.com', 'sales@contoso.com']);
      expect(groups.body.items[0].kind).toBe('group');

      const first = await client.get(`/api/app-profiles/${profileId}/directory?type=user&search=pager`);
      expect(first.body.items).toHaveLength(25);
      expect(first.body.nextCursor).toBeTruthy();
      expect(first.body.nextCursor).not.toContain('http');
      const second = await client.get(`/api/app-profiles/${profileId}/directory?type=user&search=pager&cursor=${encodeURIComponent(first.body.nextCursor)}`);
      expect(second.body.items.length).toBeGreaterThanOrEqual(2);
      const ids = new Set([...first.body.items, ...second.body.items].map((u: { id: string }) => u.id));
      expect(ids.size).toBe(first.body.items.length + second.body.items.length);

      const everyone = await client.get(`/api/app-profiles/${profileId}/directory?type=user`);
      expect(everyone.body.items).toHaveLength(25);
      const bad = await client.get(`/api/app-profiles/${profileId}/directory?type=user&cursor=${Buffer.from('https://evil.example/v1.0/users').toString('base64url')}`);
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('INVALID_CURSOR');
    });

    it('marks the users and groups the partner already added, and only those of this partner', async () => {
      const { client, profileId } = await contosoAdmin();
      const before = await client.get(`/api/app-profiles/${profileId}/directory?type=user&search=alex`);
      expect(before.body.items).toEqual([expect.objectContaining({ email: CONTOSO.user, added: false })]);
      expect((await addM365(client, profileId, [CONTOSO.user, 'sales@contoso.com'])).body.added).toHaveLength(2);

      const users = await client.get(`/api/app-profiles/${profileId}/directory?type=user&search=alex`);
      expect(users.body.items).toEqual([expect.objectContaining({ email: CONTOSO.user, added: true })]);
      const groups = await client.get(`/api/app-profiles/${profileId}/directory?type=group&search=sales`);
      const addedByEmail = Object.fromEntries(groups.body.items.map((g: { email: string; added: boolean }) => [g.email, g.added]));
      expect(addedByEmail).toEqual({ 'sales@contoso.com': true, 'sales-emea@contoso.com': false });

      // Another partner with a profile of the same tenant has added nobody.
      const other = await contosoAdmin();
      const theirs = await other.client.get(`/api/app-profiles/${other.profileId}/directory?type=user&search=alex`);
      expect(theirs.body.items).toEqual([expect.objectContaining({ email: CONTOSO.user, added: false })]);
    });

    it('refuses a crafted or foreign cursor with 400 and leaves the profile Active', async () => {
      const { client, browser, profileId } = await contosoAdmin();
      for (let i = 0; i < 26; i++) {
        const upn = `cursor${String(i).padStart(2, '0')}${engine}@contoso.com`;
        await sandbox(`/tenants/${CONTOSO.id}/users`, 'POST', { userPrincipalName: upn, displayName: `Cursor ${i}`, mail: upn, password: SAMPLE_PASSWORD });
      }
      const first = await client.get(`/api/app-profiles/${profileId}/directory?type=user`);
      expect(first.body.nextCursor).toBeTruthy();
      const cursor = encodeURIComponent(first.body.nextCursor);
      const other = await createProfile(browser, 'Northwind', NORTHWIND.admin);
      const graphBase = portal.sandbox!.clouds.global.graph;
      const attempts = [
        // A Graph URL of the caller's choosing (the old cursor format), pointing at a refused resource.
        `type=user&cursor=${Buffer.from(`${graphBase}/v1.0/directoryRoles?$top=1`).toString('base64url')}`,
        // A real cursor used for another list, or with a flipped byte.
        `type=group&cursor=${cursor}`,
        `type=user&cursor=${encodeURIComponent(first.body.nextCursor.slice(0, -2) + (first.body.nextCursor.endsWith('A') ? 'BB' : 'AA'))}`,
      ];
      for (const query of attempts) {
        const res = await client.get(`/api/app-profiles/${profileId}/directory?${query}`);
        expect(res.status, query).toBe(400);
        expect(res.body.error.code).toBe('INVALID_CURSOR');
      }
      const foreign = await client.get(`/api/app-profiles/${other}/directory?type=user&cursor=${cursor}`);
      expect(foreign.status).toBe(400);
      const profile = await client.get(`/api/app-profiles/${profileId}`);
      expect(profile.body).toMatchObject({ status: 'active', statusReason: null });
      expect((await client.get(`/api/app-profiles/${profileId}/directory?type=user&cursor=${cursor}`)).status).toBe(200);
    });

    it('keeps the profile Active with a failed check when Graph refuses a data call (403) but the refresh succeeds', async () => {
      const { client, profileId } = await contosoAdmin();
      await sandbox('/faults', 'POST', { tenantId: CONTOSO.id, status: 403, requests: 1 });
      const refused = await client.get(`/api/app-profiles/${profileId}/directory?type=user&search=alex`);
      await sandbox('/faults', 'POST', { tenantId: CONTOSO.id, status: 403, requests: 0 });
      expect(refused.status).toBe(502);
      expect(refused.body.error.code).toBe('MICROSOFT_REFUSED');
      const profile = (await client.get(`/api/app-profiles/${profileId}`)).body;
      expect(profile).toMatchObject({ status: 'active', statusReason: null });
      expect(profile.lastCheckError).toMatchObject({ at: expect.any(String), message: expect.stringMatching(/refused/i) });
      // The next call goes through as before.
      expect((await client.get(`/api/app-profiles/${profileId}/directory?type=user&search=alex`)).status).toBe(200);
    });
  });

  describe('remove', () => {
    it('removes users, ends their sessions, keeps the tenant owner, and audits', async () => {
      const { client, partnerId, userId: ownerId } = await newAdmin();
      const memberEmail = `member${Date.now()}@example.test`;
      const memberId = await insertLocalUser(db(), partnerId, { email: memberEmail, password: STRONG_PASSWORD, role: 'member' });
      const member = new ApiClient(portal.url);
      expect((await member.post('/api/session', { email: memberEmail, password: STRONG_PASSWORD })).status).toBe(200);
      expect((await member.get('/api/session')).status).toBe(200);

      const res = await client.post('/api/users/delete', { ids: [memberId, ownerId] });
      expect(res.status).toBe(200);
      expect(res.body.deleted).toEqual([memberId]);
      expect(res.body.blocked).toEqual([expect.objectContaining({ id: ownerId, code: 'OWNER' })]);
      expect((await member.get('/api/session')).status).toBe(401);
      expect((await client.get('/api/users')).body.items.map((u: { id: string }) => u.id)).toEqual([ownerId]);
      const audit = await client.get('/api/audit?action=user.remove');
      expect(audit.body.items.map((e: { outcome: string; targetId: string }) => [e.targetId, e.outcome]).sort()).toEqual([[memberId, 'success'], [ownerId, 'failure']].sort());
    });

    it('removes the member records created through a removed group, and their sessions', async () => {
      const { client, profileId, partnerId } = await contosoAdmin();
      const group = (await addM365(client, profileId, ['sales@contoso.com'])).body.added[0];
      await portal.services.users.downloadGroupMembers(partnerId, group.id);
      const viaId = await insertLocalUser(db(), partnerId, { email: `via${Date.now()}@example.test`, password: STRONG_PASSWORD, role: 'member' });
      await db().updateTable('users').set({ via_group_id: group.id, sign_in_type: 'microsoft365', app_profile_id: profileId }).where('id', '=', viaId).execute();
      const session = await portal.services.sessions.create({ partnerId, userId: viaId, clientAddress: null });
      const res = await client.post('/api/users/delete', { ids: [group.id] });
      expect(res.body.deleted).toEqual([group.id]);
      expect(await db().selectFrom('users').select('id').where('id', 'in', [viaId, group.id]).execute()).toEqual([]);
      expect(await portal.services.sessions.resolve(session.token)).toBeNull();
      expect(await db().selectFrom('group_members').select('member_object_id').where('group_user_id', '=', group.id).execute()).toEqual([]);
    });
  });

  describe('isolation and rights', () => {
    it('answers 404 for another partner’s profiles and users, and changes nothing', async () => {
      const a = await contosoAdmin();
      const b = await newAdmin('Other Partner');
      const aUser = (await addLocal(a.client, [`kept${Date.now()}@example.test`])).body.added[0];
      const add = await addM365(b.client, a.profileId, [CONTOSO.user]);
      expect(add.status).toBe(404);
      expect((await b.client.get(`/api/app-profiles/${a.profileId}/directory?type=user&search=alex`)).status).toBe(404);
      const del = await b.client.post('/api/users/delete', { ids: [aUser.id] });
      expect(del.status).toBe(404);
      const mixed = await a.client.post('/api/users/delete', { ids: [aUser.id, b.userId] });
      expect(mixed.status).toBe(404);
      expect((await b.client.post(`/api/users/${aUser.id}/download-members`)).status).toBe(404);
      expect(await db().selectFrom('users').select('id').where('id', 'in', [aUser.id, b.userId]).execute()).toHaveLength(2);
      expect((await b.client.get('/api/users')).body.items.map((u: { id: string }) => u.id)).toEqual([b.userId]);
    });

    it('refuses Members on every user management route with 403', async () => {
      const { partnerId, profileId, userId } = await contosoAdmin();
      const email = `plain${Date.now()}@example.test`;
      await insertLocalUser(db(), partnerId, { email, password: STRONG_PASSWORD, role: 'member' });
      const member = new ApiClient(portal.url);
      expect((await member.post('/api/session', { email, password: STRONG_PASSWORD })).status).toBe(200);
      const answers = await Promise.all([
        member.get('/api/users'),
        member.post('/api/users', { signInType: 'local', emails: ['x@example.test'], role: 'administrator' }),
        member.post('/api/users/delete', { ids: [userId] }),
        member.get(`/api/app-profiles/${profileId}/directory?type=user&search=alex`),
      ]);
      expect(answers.map((a) => a.status)).toEqual([403, 403, 403, 403]);
      expect(await db().selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst()).toBeTruthy();
    });
  });

  /** The object id of a Contoso user, found through the browse route. */
  async function objectIdOf(client: ApiClient, profileId: string, search: string): Promise<string> {
    const res = await client.get(`/api/app-profiles/${profileId}/directory?type=user&search=${search}`);
    return (res.body.items[0].id as string).toLowerCase();
  }
});
