import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, signUpPartner } from '../support/api-client';
import { testEngines } from '../support/engines';
import { startTestPortal, type TestPortal } from '../support/portal';
import { purgeExpiredInvitations } from '../../src/server/users/invitations';

/** Issue 8, item 7: invitations expire and are removed, reserve nothing outside their partner, and are limited. */
describe.each(testEngines())('invitations on %s', (engine) => {
  let portal: TestPortal;
  beforeAll(async () => {
    portal = await startTestPortal(engine, { TENANTGATE_INVITATIONS_PER_HOUR: '5' });
  });
  afterAll(async () => {
    await portal?.close();
  });

  const invite = (client: ApiClient, emails: string[]) => client.post('/api/users', { signInType: 'local', emails, role: 'member' });
  const tokenOf = (url: string) => new URL(url).searchParams.get('token')!;
  const usersWith = (email: string) => portal.services.db.selectFrom('users').select(['partner_id', 'status']).where('email_key', '=', email).execute();
  const strong = 'amber-canyon-whistle-58';

  it('lets another partner invite, and a person sign up with, an address that is only invited elsewhere', async () => {
    const a = await signUpPartner(portal.url, 'Partner A');
    const b = await signUpPartner(portal.url, 'Partner B');
    const email = `pending${Date.now()}@example.test`;
    const first = await invite(a.client, [email]);
    expect(first.body.added).toHaveLength(1);
    const second = await invite(b.client, [email]);
    expect(second.body.rejected).toEqual([]);
    expect(second.body.added).toHaveLength(1);

    const signUp = await new ApiClient(portal.url).post('/api/signup', { organizationName: 'Own Company', email, password: strong });
    expect(signUp.status).toBe(201);

    // Now the address has an account: partner A's pending invitation is refused clearly and changes nothing.
    const activate = await new ApiClient(portal.url).post('/api/activate', { token: tokenOf(first.body.invitations[0].activationUrl), password: 'another-harbor-lantern-77' });
    expect(activate.status).toBe(409);
    expect(activate.body.error.code).toBe('EMAIL_TAKEN');
    expect((await usersWith(email)).filter((u) => u.partner_id === a.partnerId)).toEqual([{ partner_id: a.partnerId, status: 'invited' }]);
    const audit = await a.client.get('/api/audit?action=user.activate');
    expect(audit.body.items[0]).toMatchObject({ outcome: 'failure', details: { reason: 'email_taken' } });
    // Signing in finds the one account, not the invitations.
    expect((await new ApiClient(portal.url).post('/api/session', { email, password: strong })).status).toBe(200);
  });

  it('removes invitations whose link expired, with an audit entry, and keeps the others', async () => {
    const a = await signUpPartner(portal.url, 'Partner C');
    const stale = `stale${Date.now()}@example.test`;
    const fresh = `fresh${Date.now()}@example.test`;
    const added = await invite(a.client, [stale, fresh]);
    expect(added.body.added).toHaveLength(2);
    const staleId = added.body.added.find((u: { email: string }) => u.email === stale).id;
    await portal.services.db.updateTable('users').set({ activation_expires_at: new Date(Date.now() - 1000).toISOString() }).where('id', '=', staleId).execute();

    expect(await purgeExpiredInvitations(portal.services.db, portal.services.audit)).toBeGreaterThanOrEqual(1);
    const emails = (await a.client.get('/api/users')).body.items.map((u: { email: string }) => u.email);
    expect(emails).toContain(fresh);
    expect(emails).not.toContain(stale);
    const audit = await a.client.get('/api/audit?action=user.invitation_expired');
    expect(audit.body.items[0]).toMatchObject({ targetName: stale, outcome: 'success' });
    // The address is free again in this partner too.
    expect((await invite(a.client, [stale])).body.added).toHaveLength(1);
  });

  it('limits invitations per partner and hour with a clear error, creating nothing past the limit', async () => {
    const a = await signUpPartner(portal.url, 'Partner D');
    const other = await signUpPartner(portal.url, 'Partner E');
    const stamp = Date.now();
    expect((await invite(a.client, [1, 2, 3].map((i) => `batch${i}-${stamp}@example.test`))).body.added).toHaveLength(3);
    const before = (await a.client.get('/api/users')).body.items.length;
    const refused = await invite(a.client, [4, 5, 6].map((i) => `batch${i}-${stamp}@example.test`));
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('INVITATION_LIMIT');
    expect(refused.body.error.message).toMatch(/5 invitations an hour/);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await a.client.get('/api/users')).body.items.length).toBe(before);
    const audit = await a.client.get('/api/audit?action=user.add');
    expect(audit.body.items[0]).toMatchObject({ outcome: 'failure', details: { code: 'INVITATION_LIMIT', count: 3 } });
    // Up to the limit still works, and other partners are not affected.
    expect((await invite(a.client, [`batch7-${stamp}@example.test`, `batch8-${stamp}@example.test`])).body.added).toHaveLength(2);
    expect((await invite(other.client, [1, 2, 3, 4, 5].map((i) => `other${i}-${stamp}@example.test`))).body.added).toHaveLength(5);
  });
});
