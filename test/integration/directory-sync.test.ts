import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpPartner } from '../support/api-client';
import { testEngines } from '../support/engines';
import { AdminBrowser, CONTOSO, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../support/portal';
import type { SyncCounts } from '../../src/server/directory-sync/index';

const SALES = 'c1c1c1c1-0001-4000-8000-000000000001';
const SALES_EMEA = 'c1c1c1c1-0002-4000-8000-000000000002';

describe.each(testEngines())('directory sync on %s', (engine) => {
  let portal: TestPortal;
  let partnerId: string;
  let profileId: string;
  let salesEntry: string;
  const ids: Record<string, string> = {};
  const entries: Record<string, string> = {};
  const sandbox = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${portal.sandbox!.baseUrl}/_sandbox${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    expect(res.status, `${method} ${path}`).toBeLessThan(300);
    return res.status === 204 ? null : ((await res.json()) as Record<string, unknown>);
  };
  const sync = () => portal.services.directorySync.syncProfile(profileId) as Promise<SyncCounts>;
  const user = (id: string) => portal.services.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const members = async (groupUserId: string) =>
    (await portal.services.db.selectFrom('group_members').select('member_object_id').where('group_user_id', '=', groupUserId).execute()).map((r) => r.member_object_id).sort();

  async function insertEntry(kind: 'user' | 'group', objectId: string, email: string): Promise<string> {
    const id = randomUUID();
    const now = new Date().toISOString();
    await portal.services.db
      .insertInto('users')
      .values({ id, partner_id: partnerId, email, email_key: email, display_name: email, password_hash: null, role: 'member', is_owner: 0, sign_in_type: 'microsoft365', kind, status: 'active', app_profile_id: profileId, ms_tenant_id: CONTOSO.id, ms_object_id: objectId, created_at: now, updated_at: now })
      .execute();
    return id;
  }

  beforeAll(async () => {
    portal = await startTestPortal(engine);
    const partner = await signUpPartner(portal.url, 'Sync Partner');
    partnerId = partner.partnerId;
    const outcome = await new AdminBrowser(partner.client).createProfile('Contoso', { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
    profileId = outcome.profileId!;
    for (const upn of ['alex@contoso.com', 'diego@contoso.com', 'adele@contoso.com', 'megan@contoso.com']) {
      ids[upn] = String((await sandbox('PATCH', `/tenants/${CONTOSO.id}/users/${upn}`, {}))!.id).toLowerCase();
    }
    for (const upn of ['alex@contoso.com', 'diego@contoso.com', 'adele@contoso.com']) entries[upn] = await insertEntry('user', ids[upn], upn);
    salesEntry = await insertEntry('group', SALES, 'sales@contoso.com');
  });
  afterAll(async () => {
    await portal?.close();
  });

  it('first sync fills transitive memberships (nested groups included); the second uses the stored delta link and returns only changes', async () => {
    const first = await sync();
    expect(first.error).toBeUndefined();
    expect(first.users.received).toBeGreaterThanOrEqual(6);
    expect(await members(salesEntry)).toEqual([ids['alex@contoso.com'], ids['diego@contoso.com'], SALES_EMEA].sort());
    const links = await portal.services.db.selectFrom('directory_sync_state').selectAll().where('app_profile_id', '=', profileId).execute();
    expect(links.map((l) => l.resource).sort()).toEqual(['groups', 'users']);
    expect(links.every((l) => l.delta_link?.includes('deltatoken'))).toBe(true);

    const second = await sync();
    expect(second).toMatchObject({ resynced: [], users: { received: 0 }, groups: { received: 0, recomputed: 0 } });
  });

  it('reflects name changes, disabling, deletion and membership changes (nested too) after syncProfile, ending sessions of the disabled', async () => {
    const session = await portal.services.sessions.create({ partnerId, userId: entries['diego@contoso.com'], clientAddress: null });
    await sandbox('PATCH', `/tenants/${CONTOSO.id}/users/alex@contoso.com`, { displayName: 'Alex Wilber' });
    await sandbox('PATCH', `/tenants/${CONTOSO.id}/users/diego@contoso.com`, { accountEnabled: false });
    await sandbox('DELETE', `/tenants/${CONTOSO.id}/users/adele@contoso.com`);
    await sandbox('POST', `/tenants/${CONTOSO.id}/groups/${SALES_EMEA}/members`, { member: 'megan@contoso.com' });
    await sandbox('DELETE', `/tenants/${CONTOSO.id}/groups/${SALES}/members/alex@contoso.com`);

    const counts = await sync();
    expect(counts.error).toBeUndefined();
    expect(counts.users.received).toBeLessThanOrEqual(4);
    expect(await user(entries['alex@contoso.com'])).toMatchObject({ display_name: 'Alex Wilber', status: 'active' });
    expect(await user(entries['diego@contoso.com'])).toMatchObject({ status: 'disabled' });
    expect(await user(entries['adele@contoso.com'])).toMatchObject({ status: 'disabled' });
    expect(await portal.services.sessions.resolve(session.token)).toBeNull();
    expect(await members(salesEntry)).toEqual([ids['diego@contoso.com'], ids['megan@contoso.com'], SALES_EMEA].sort());

    // Enabled again in the tenant: the entry follows.
    await sandbox('PATCH', `/tenants/${CONTOSO.id}/users/diego@contoso.com`, { accountEnabled: true });
    await sync();
    expect(await user(entries['diego@contoso.com'])).toMatchObject({ status: 'active' });
  });

  it('starts over on 410 resyncRequired (a stale delta link) and ends consistent', async () => {
    await portal.services.db.updateTable('directory_sync_state').set({ delta_link: `${portal.sandbox!.clouds.global.graph}/v1.0/users/delta?$deltatoken=stale` }).where('app_profile_id', '=', profileId).execute();
    await sandbox('PATCH', `/tenants/${CONTOSO.id}/users/alex@contoso.com`, { displayName: 'Alex After Resync' });
    const counts = await sync();
    expect(counts.error).toBeUndefined();
    expect(counts.resynced).toEqual(expect.arrayContaining(['users', 'groups']));
    expect(counts.users.received).toBeGreaterThanOrEqual(5);
    expect(await user(entries['alex@contoso.com'])).toMatchObject({ display_name: 'Alex After Resync' });
    expect(await members(salesEntry)).toEqual([ids['diego@contoso.com'], ids['megan@contoso.com'], SALES_EMEA].sort());
    expect((await sync()).users.received).toBe(0);
  });

  it('finishes under a 429/503 storm with nothing duplicated or lost', async () => {
    await sandbox('POST', `/tenants/${CONTOSO.id}/groups/${SALES}/members`, { member: 'alex@contoso.com' });
    await sandbox('DELETE', `/tenants/${CONTOSO.id}/groups/${SALES_EMEA}/members/megan@contoso.com`);
    await sandbox('PATCH', `/tenants/${CONTOSO.id}/users/alex@contoso.com`, { displayName: 'Alex Storm' });
    await sandbox('POST', '/throttle', { tenantId: CONTOSO.id, requests: 3, retryAfterSeconds: 1 });
    await sandbox('POST', '/faults', { tenantId: CONTOSO.id, status: 503, requests: 3 });
    const counts = await sync();
    expect(counts.error).toBeUndefined();
    expect(await user(entries['alex@contoso.com'])).toMatchObject({ display_name: 'Alex Storm' });
    const rows = await members(salesEntry);
    expect(rows).toEqual([ids['alex@contoso.com'], ids['diego@contoso.com'], SALES_EMEA].sort());
    expect(new Set(rows).size).toBe(rows.length);
    // The stored links still lead on: nothing changed, nothing more to read.
    expect(await sync()).toMatchObject({ users: { received: 0 }, groups: { received: 0 } });
  });
});
