import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, signUpPartner } from '../support/api-client';
import { testEngines } from '../support/engines';
import { startTestPortal, type TestPortal } from '../support/portal';

/** Issue 13: the routes behind the admin pages (invitations again, link check, user search and filter, audit filters and CSV). */
describe.each(testEngines())('admin page routes on %s', (engine) => {
  let portal: TestPortal;
  beforeAll(async () => {
    portal = await startTestPortal(engine);
  });
  afterAll(async () => {
    await portal?.close();
  });
  const tokenOf = (url: string) => new URL(url).searchParams.get('token')!;

  it('resends an invitation: a new link replaces the old, checked before activation; only for Invited users', async () => {
    const a = await signUpPartner(portal.url, 'Resend Partners');
    const email = `again${Date.now()}@example.test`;
    const added = await a.client.post('/api/users', { signInType: 'local', emails: [email], role: 'member' });
    const id = added.body.added[0].id;
    const oldToken = tokenOf(added.body.invitations[0].activationUrl);
    const anonymous = new ApiClient(portal.url);
    expect((await anonymous.post('/api/activate/check', { token: oldToken })).body).toMatchObject({ email });

    const resent = await a.client.post(`/api/users/${id}/invitation`, {});
    expect(resent.status).toBe(200);
    expect(resent.body).toMatchObject({ email, emailed: false });
    const newToken = tokenOf(resent.body.activationUrl);
    expect(newToken).not.toBe(oldToken);
    const refused = await anonymous.post('/api/activate/check', { token: oldToken });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('ACTIVATION_INVALID');
    expect((await anonymous.post('/api/activate', { token: newToken, password: 'amber-canyon-whistle-58' })).status).toBe(200);

    // Active now: no new link, and the owner never had one. Another partner's user is not found.
    expect((await a.client.post(`/api/users/${id}/invitation`, {})).body.error.code).toBe('NOT_INVITED');
    const b = await signUpPartner(portal.url, 'Other Partners');
    expect((await b.client.post(`/api/users/${id}/invitation`, {})).status).toBe(404);
    const audit = await a.client.get('/api/audit?action=user.invitation_resend');
    expect(audit.body.items).toHaveLength(1);
    expect(JSON.stringify(audit.body.items[0])).not.toContain(newToken);
  });

  it('searches users by name as well as email, and filters by app profile', async () => {
    const a = await signUpPartner(portal.url, 'Search Partners');
    const email = `adele${Date.now()}@example.test`;
    await a.client.post('/api/users', { signInType: 'local', emails: [email], role: 'member' });
    await portal.services.db.updateTable('users').set({ display_name: 'Adele Vance' }).where('email_key', '=', email).execute();
    expect((await a.client.get('/api/users?search=vance')).body.items.map((u: { email: string }) => u.email)).toEqual([email]);
    expect((await a.client.get('/api/users?appProfileId=no-such-profile')).body.items).toEqual([]);
  });

  it('filters the audit log by date and part of the actor, and exports it as CSV', async () => {
    const a = await signUpPartner(portal.url, 'Audit Partners');
    const all = (await a.client.get('/api/audit')).body.items;
    expect(all.length).toBeGreaterThan(0);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
    expect((await a.client.get(`/api/audit?from=${encodeURIComponent(tomorrow)}`)).body.items).toEqual([]);
    expect((await a.client.get(`/api/audit?to=${encodeURIComponent(tomorrow)}`)).body.items).toHaveLength(all.length);
    const part = a.email.slice(0, 6).toUpperCase();
    expect((await a.client.get(`/api/audit?actor=${part}`)).body.items.length).toBe(all.filter((e: { actorEmail: string | null }) => e.actorEmail === a.email).length);

    const csv = await a.client.get('/api/audit/export.csv?action=partner.signup');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toMatch(/attachment; filename="tenantgate-audit-/);
    const lines = String(csv.body).trim().split('\r\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(',Partner account created,partner.signup,');
    // Scoped to the partner: another partner's export holds none of these entries.
    const b = await signUpPartner(portal.url, 'Other Audit Partners');
    expect(String((await b.client.get('/api/audit/export.csv')).body)).not.toContain(a.email);
  });
});
