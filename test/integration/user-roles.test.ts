import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, signUpPartner } from '../support/api-client';
import { insertLocalUser } from '../support/db-fixtures';
import { testEngines } from '../support/engines';
import { startTestPortal, type TestPortal } from '../support/portal';

describe.each(testEngines())('changing roles on %s', (engine) => {
  let portal: TestPortal;
  beforeAll(async () => {
    portal = await startTestPortal(engine);
  });
  afterAll(async () => {
    await portal?.close();
  });

  async function partnerWithMember() {
    const owner = await signUpPartner(portal.url);
    const email = `staff-${Date.now()}@acme-partner.test`;
    const id = await insertLocalUser(portal.services.db, owner.partnerId, { email, password: 'silver-forest-river-9', role: 'member' });
    const member = new ApiClient(portal.url);
    await member.post('/api/session', { email, password: 'silver-forest-river-9' });
    return { owner, member, id, email };
  }

  it('promotes a Member to Administrator, effective in the session already open, and audits it', async () => {
    const { owner, member, id, email } = await partnerWithMember();
    expect((await member.get('/api/users')).status).toBe(403);
    const res = await owner.client.patch(`/api/users/${id}`, { role: 'administrator' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, email, role: 'administrator' });
    expect((await member.get('/api/users')).status).toBe(200);
    const audit = await owner.client.get('/api/audit?action=user.role_change');
    expect(audit.body.items[0]).toMatchObject({ targetName: email, outcome: 'success', details: { from: 'member', to: 'administrator' } });
    // And back: the session loses Settings at once.
    expect((await owner.client.patch(`/api/users/${id}`, { role: 'member' })).status).toBe(200);
    expect((await member.get('/api/users')).status).toBe(403);
  });

  it('keeps the tenant owner an Administrator and refuses changing one’s own role', async () => {
    const { owner, member, id } = await partnerWithMember();
    await owner.client.patch(`/api/users/${id}`, { role: 'administrator' });
    const ownerRow = await portal.services.db.selectFrom('users').select('id').where('partner_id', '=', owner.partnerId).where('is_owner', '=', 1).executeTakeFirstOrThrow();
    const onOwner = await member.patch(`/api/users/${ownerRow.id}`, { role: 'member' });
    expect(onOwner.status).toBe(409);
    expect(onOwner.body.error.code).toBe('OWNER_ROLE_FIXED');
    const onSelf = await member.patch(`/api/users/${id}`, { role: 'member' });
    expect(onSelf.status).toBe(409);
    expect(onSelf.body.error.code).toBe('OWN_ROLE');
  });

  it('answers 404 for another partner’s user and 400 for a role that does not exist', async () => {
    const a = await partnerWithMember();
    const b = await signUpPartner(portal.url);
    expect((await b.client.patch(`/api/users/${a.id}`, { role: 'administrator' })).status).toBe(404);
    const bad = await a.owner.client.patch(`/api/users/${a.id}`, { role: 'god' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.field).toBe('role');
  });
});
