import type { KyselyPlugin } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog } from '../../src/server/audit/store';
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

  it('exports every row of a log longer than a page, newest first, with its columns, in one query', async () => {
    const a = await signUpPartner(portal.url, 'Busy Audit Partners');
    const rows = 450;
    const base = Date.parse('2026-01-01T00:00:00.000Z');
    const values = Array.from({ length: rows }, (_, i) => ({
      id: `busy-${String(i).padStart(4, '0')}-${a.partnerId}`,
      partner_id: a.partnerId,
      at: new Date(base + i * 1000).toISOString(),
      actor_user_id: null,
      actor_email: 'pat@contoso.com',
      action: 'user.add',
      target_type: 'user',
      target_id: `u${i}`,
      target_name: `user${i}@contoso.com`,
      outcome: 'success' as const,
      client_address: '203.0.113.9',
      details: JSON.stringify({ n: i }),
    }));
    for (let i = 0; i < rows; i += 100) await portal.services.db.insertInto('audit_events').values(values.slice(i, i + 100)).execute();

    const csv = await a.client.get('/api/audit/export.csv?action=user.add');
    expect(csv.status).toBe(200);
    const lines = String(csv.body).trim().split('\r\n');
    expect(lines[0]).toBe('Time (UTC),Actor,Action,Action code,Target type,Target,Outcome,Cause,Fix,Client address,Details');
    expect(lines).toHaveLength(rows + 1);
    expect(lines[1]).toBe(`${values[rows - 1].at},pat@contoso.com,User added,user.add,user,user${rows - 1}@contoso.com,Success,,,203.0.113.9,"{""n"":${rows - 1}}"`);
    expect(lines[rows]).toContain(`,user0@contoso.com,`);
    expect(new Set(lines.slice(1).map((l) => l.split(',')[5])).size).toBe(rows);

    // One query, however many rows: count what reaches the database.
    let queries = 0;
    const counter: KyselyPlugin = { transformQuery: (args) => ((queries += 1), args.node), transformResult: async (args) => args.result };
    const exported = await createAuditLog(portal.services.db.withPlugin(counter)).export(a.partnerId, { action: 'user.add' }, 10_000);
    expect(exported).toHaveLength(rows);
    expect(queries).toBe(1);
  });
});
