import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, signUpPartner } from '../support/api-client';
import { insertLocalUser } from '../support/db-fixtures';
import { testEngines } from '../support/engines';
import { AdminBrowser, CONTOSO, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../support/portal';
import { SandboxUserAgent } from '../support/sandbox-user-agent';
import { sha256 } from '../../src/server/security/random';

const HOUR = 3600_000;
const PASSWORD = 'silver-forest-river-9';

/** Session lifetimes, rotation at sign-in, sign out everywhere, and a password change (issue 8, item 10). */
describe.each(testEngines())('sessions on %s', (engine) => {
  let portal: TestPortal;
  beforeAll(async () => {
    // Idle 8 hours (the default), absolute 7 days (the default).
    portal = await startTestPortal(engine);
  });
  afterAll(async () => {
    await portal?.close();
  });

  /** A partner with a local Member, signed in from `browsers` browsers. */
  async function memberSignedIn(browsers = 1) {
    const owner = await signUpPartner(portal.url);
    const email = `staff-${randomUUID()}@acme-partner.test`;
    const userId = await insertLocalUser(portal.services.db, owner.partnerId, { email, password: PASSWORD, role: 'member' });
    const clients: ApiClient[] = [];
    for (let i = 0; i < browsers; i++) {
      const client = new ApiClient(portal.url);
      expect((await client.post('/api/session', { email, password: PASSWORD })).status).toBe(200);
      clients.push(client);
    }
    return { owner, email, userId, clients };
  }
  const sessionRow = (client: ApiClient) => portal.services.db.selectFrom('sessions').selectAll().where('id', '=', sha256(client.jar.get('tg_session')!)).executeTakeFirst();
  const setSession = (client: ApiClient, values: { created_at?: string; last_seen_at?: string; expires_at?: string }) =>
    portal.services.db.updateTable('sessions').set(values).where('id', '=', sha256(client.jar.get('tg_session')!)).execute();
  const maxAgeOf = (headers: Headers): number | null => {
    const cookie = headers.getSetCookie().find((c) => c.startsWith('tg_session='));
    const match = cookie ? /Max-Age=(\d+)/i.exec(cookie) : null;
    return match ? Number(match[1]) : null;
  };

  describe('lifetimes', () => {
    it('ends a session 7 days after sign-in however busy it was', async () => {
      const { clients: [client] } = await memberSignedIn();
      // Used a second ago, so idle it is not; but signed in 7 days and a minute ago.
      await setSession(client, { created_at: new Date(Date.now() - 168 * HOUR - 60_000).toISOString(), last_seen_at: new Date(Date.now() - 1000).toISOString() });
      expect((await client.get('/api/session')).status).toBe(401);
    });

    it('ends a session after the idle timeout', async () => {
      const { clients: [client] } = await memberSignedIn();
      await setSession(client, { last_seen_at: new Date(Date.now() - 9 * HOUR).toISOString(), expires_at: new Date(Date.now() - HOUR).toISOString() });
      expect((await client.get('/api/session')).status).toBe(401);
    });

    it('gives the cookie the lifetime of the server session at sign-in, and moves both together while in use', async () => {
      const client = new ApiClient(portal.url);
      const { email } = await memberSignedIn(0);
      const signIn = await client.post('/api/session', { email, password: PASSWORD });
      expect(maxAgeOf(signIn.headers)).toBe(8 * 3600);
      const created = await sessionRow(client);
      expect(Date.parse(created!.expires_at) - Date.parse(created!.created_at)).toBe(8 * HOUR);

      // Used again after a while: the server pushes the idle deadline on, and the cookie follows it.
      await setSession(client, { last_seen_at: new Date(Date.now() - 2 * HOUR).toISOString(), expires_at: new Date(Date.now() + 6 * HOUR).toISOString() });
      const renewed = await client.get('/api/session');
      expect(renewed.status).toBe(200);
      const row = await sessionRow(client);
      const serverLeftS = (Date.parse(row!.expires_at) - Date.now()) / 1000;
      expect(Math.abs(maxAgeOf(renewed.headers)! - serverLeftS)).toBeLessThan(5);
      expect(serverLeftS).toBeGreaterThan(8 * 3600 - 10);

      // Near the absolute end, neither the server's deadline nor the cookie goes past it.
      await setSession(client, { created_at: new Date(Date.now() - 167 * HOUR).toISOString(), last_seen_at: new Date(Date.now() - 2 * 60_000).toISOString() });
      const capped = await client.get('/api/session');
      expect(capped.status).toBe(200);
      const cappedRow = await sessionRow(client);
      expect(Date.parse(cappedRow!.expires_at)).toBe(Date.parse(cappedRow!.created_at) + 168 * HOUR);
      expect(Math.abs(maxAgeOf(capped.headers)! - 3600)).toBeLessThan(5);
    });
  });

  describe('rotation at sign-in', () => {
    it('ends the session the browser had when it signs in with a password again', async () => {
      const { email, clients: [client] } = await memberSignedIn();
      const before = client.jar.get('tg_session')!;
      expect((await client.post('/api/session', { email, password: PASSWORD })).status).toBe(200);
      const after = client.jar.get('tg_session')!;
      expect(after).not.toBe(before);
      expect((await client.get('/api/session')).status).toBe(200);
      const old = new ApiClient(portal.url);
      old.cookie = `tg_session=${before}`;
      expect((await old.get('/api/session')).status).toBe(401);
    });

    it('ends a planted session when the browser signs in with Microsoft', async () => {
      const partner = await signUpPartner(portal.url, 'Rotation Partner');
      const outcome = await new AdminBrowser(partner.client).createProfile('Contoso M365', { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
      expect(outcome.result, outcome.location).toBe('created');
      const oid = ((await (await fetch(`${portal.sandbox!.baseUrl}/_sandbox/tenants/${CONTOSO.id}/users/megan@contoso.com`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{}' })).json()) as { id: string }).id.toLowerCase();
      const now = new Date().toISOString();
      await portal.services.db
        .insertInto('users')
        .values({ id: randomUUID(), partner_id: partner.partnerId, email: 'megan@contoso.com', email_key: 'megan@contoso.com', display_name: 'Megan', password_hash: null, role: 'member', is_owner: 0, sign_in_type: 'microsoft365', kind: 'user', status: 'active', app_profile_id: outcome.profileId!, ms_tenant_id: CONTOSO.id, ms_object_id: oid, created_at: now, updated_at: now })
        .execute();
      // Someone plants their own session cookie in the victim's browser (session fixation).
      const { clients: [planted] } = await memberSignedIn();
      const plantedToken = planted.jar.get('tg_session')!;
      const browser = new ApiClient(portal.url);
      browser.cookie = `tg_session=${plantedToken}`;
      const start = await browser.get('/auth/microsoft/sign-in?email=megan%40contoso.com');
      const redirect = await new SandboxUserAgent().authorize(new URL(start.headers.get('location')!), { email: 'megan@contoso.com', password: SAMPLE_PASSWORD });
      const callback = await browser.get(`${redirect.pathname}${redirect.search}`);
      expect(callback.headers.get('location')).toBe('/');
      expect(browser.jar.get('tg_session')).not.toBe(plantedToken);
      expect((await browser.get('/api/session')).body.user.email).toBe('megan@contoso.com');
      expect((await planted.get('/api/session')).status).toBe(401);
    });
  });

  describe('sign out everywhere', () => {
    it('DELETE /api/sessions ends every session of the person and no one else’s, and is audited', async () => {
      const { owner, email, clients: [here, elsewhere] } = await memberSignedIn(2);
      const res = await here.delete('/api/sessions');
      expect(res.status).toBe(204);
      expect(res.headers.getSetCookie().some((c) => c.startsWith('tg_session=;'))).toBe(true);
      expect((await here.get('/api/session')).status).toBe(401);
      expect((await elsewhere.get('/api/session')).status).toBe(401);
      expect((await owner.client.get('/api/session')).status).toBe(200);
      const audit = await owner.client.get('/api/audit?action=session.signout_everywhere');
      expect(audit.body.items[0]).toMatchObject({ actorEmail: email, outcome: 'success', details: { endedSessions: 2 } });
    });

    it('needs the CSRF token and is documented in the OpenAPI document', async () => {
      const { clients: [here, elsewhere] } = await memberSignedIn(2);
      expect((await here.delete('/api/sessions', { 'x-csrf-token': 'forged' })).status).toBe(403);
      expect((await elsewhere.get('/api/session')).status).toBe(200);
      const doc = (await (await fetch(`${portal.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
      expect(doc.paths['/api/sessions']?.delete).toBeDefined();
    });
  });

  describe('password change', () => {
    it('ends the other sessions of the person, keeps this one, and only the new password signs in', async () => {
      const { email, clients: [here, elsewhere] } = await memberSignedIn(2);
      const res = await here.post('/api/session/password', { currentPassword: PASSWORD, newPassword: 'amber-canyon-whistle-31' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ endedSessions: 1 });
      expect((await here.get('/api/session')).status).toBe(200);
      expect((await elsewhere.get('/api/session')).status).toBe(401);
      expect((await new ApiClient(portal.url).post('/api/session', { email, password: PASSWORD })).status).toBe(401);
      expect((await new ApiClient(portal.url).post('/api/session', { email, password: 'amber-canyon-whistle-31' })).status).toBe(200);
    });

    it('refuses a wrong current password and changes nothing', async () => {
      const { email, clients: [here, elsewhere] } = await memberSignedIn(2);
      const res = await here.post('/api/session/password', { currentPassword: 'not-my-password-1', newPassword: 'amber-canyon-whistle-31' });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('WRONG_PASSWORD');
      expect((await elsewhere.get('/api/session')).status).toBe(200);
      expect((await new ApiClient(portal.url).post('/api/session', { email, password: PASSWORD })).status).toBe(200);
    });

    it('lets no more than 5 wrong current passwords through, even when they are all sent at once', async () => {
      const { email, clients: [here] } = await memberSignedIn(1);
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => here.post('/api/session/password', { currentPassword: `not-my-password-${i}`, newPassword: 'amber-canyon-whistle-31' })));
      const statuses = answers.map((a) => a.status);
      // Each attempt is counted before it is checked, so a burst can only be refused sooner (on PostgreSQL the
      // parallel inserts may all be counted by each), never let more than 5 through.
      const checked = statuses.filter((s) => s === 400).length;
      expect(checked).toBeGreaterThanOrEqual(1);
      expect(checked).toBeLessThanOrEqual(5);
      expect(statuses.filter((s) => s === 429)).toHaveLength(10 - checked);
      // One at a time, the wrong guesses left under the limit are checked, then the next is refused.
      const wrong = (i: number) => here.post('/api/session/password', { currentPassword: `still-not-my-password-${i}`, newPassword: 'amber-canyon-whistle-31' });
      for (let i = checked; i < 5; i++) expect((await wrong(i)).status).toBe(400);
      expect((await wrong(5)).status).toBe(429);
      const refused = answers.find((a) => a.status === 429)!;
      expect(refused.body.error.details.retryAfterSeconds).toBeGreaterThan(14 * 60);
      expect(Number(refused.headers.get('retry-after'))).toBe(refused.body.error.details.retryAfterSeconds);
      // The limit holds for the right password too, and nothing changed.
      expect((await here.post('/api/session/password', { currentPassword: PASSWORD, newPassword: 'amber-canyon-whistle-31' })).status).toBe(429);
      expect((await new ApiClient(portal.url).post('/api/session', { email, password: PASSWORD })).status).toBe(200);
    });

    it('does not count a right current password towards the limit', async () => {
      const { clients: [here] } = await memberSignedIn(1);
      for (let i = 0; i < 3; i++) expect((await here.post('/api/session/password', { currentPassword: `not-my-password-${i}`, newPassword: 'amber-canyon-whistle-31' })).status).toBe(400);
      expect((await here.post('/api/session/password', { currentPassword: PASSWORD, newPassword: 'amber-canyon-whistle-31' })).status).toBe(200);
      expect((await here.post('/api/session/password', { currentPassword: 'not-my-password-9', newPassword: 'cobalt-meadow-lantern-47' })).status).toBe(400);
      expect((await here.post('/api/session/password', { currentPassword: 'amber-canyon-whistle-31', newPassword: 'cobalt-meadow-lantern-47' })).status).toBe(200);
    });
  });
});
