import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProfileHealth } from '../../src/server/app-profiles/health';
import { createDirectorySync } from '../../src/server/directory-sync/index';
import { ApiClient, signUpPartner } from '../support/api-client';
import { insertLocalUser } from '../support/db-fixtures';
import { testEngines } from '../support/engines';
import { AdminBrowser, CONTOSO, NORTHWIND, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../support/portal';
import { SandboxUserAgent } from '../support/sandbox-user-agent';
import { freePort } from '../support/portal-process';
import { startSmtpServer } from '../support/smtp-server';

const DAY = 24 * 3600_000;

/** Issue 10, section 2: alerts before and at loss of access, once per condition, per partner. */
describe.each(testEngines())('notifications on %s', (engine) => {
  let portal: TestPortal;
  const sandbox = (path: string, body: unknown = {}) =>
    fetch(`${portal.sandbox!.baseUrl}/_sandbox${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const db = () => portal.services.db;

  beforeAll(async () => {
    portal = await startTestPortal(engine);
  });
  afterAll(async () => {
    await portal?.close();
  });

  async function partnerWithProfile(name: string, account: string = CONTOSO.admin) {
    const partner = await signUpPartner(portal.url, name);
    const browser = new AdminBrowser(partner.client);
    const outcome = await browser.createProfile(`${name} profile`, { email: account, password: SAMPLE_PASSWORD, consent: 'accept' });
    expect(outcome.result, outcome.location).toBe('created');
    return { ...partner, browser, profileId: outcome.profileId! };
  }

  /** The partner's stored notifications, oldest first. */
  const stored = (partnerId: string) => db().selectFrom('notifications').selectAll().where('partner_id', '=', partnerId).orderBy('created_at').orderBy('key').execute();
  const types = async (partnerId: string) => (await stored(partnerId)).map((n) => n.type);
  const revokeSessions = (account: string) => sandbox(`/tenants/${CONTOSO.id}/users/${account}/revoke-sessions`);

  describe('app profile expired and restored', () => {
    it('notifies once with the cause and the fix, resolves when Active again, and a later lapse notifies again', async () => {
      const p = await partnerWithProfile('Expiry Partner');
      const other = await partnerWithProfile('Bystander Partner', NORTHWIND.admin);
      expect((await revokeSessions(CONTOSO.admin)).status).toBeLessThan(300);
      expect((await p.client.post(`/api/app-profiles/${p.profileId}/check`, {})).body.status).toBe('authorization_expired');
      // The same condition seen again (another check, the scheduled sweep): no second notification.
      expect((await p.client.post(`/api/app-profiles/${p.profileId}/check`, {})).body.status).toBe('authorization_expired');
      await portal.services.appProfiles.health.sweep({ olderThanMs: 0 });
      const [expired, ...rest] = await stored(p.partnerId);
      expect(rest).toEqual([]);
      expect(expired).toMatchObject({ type: 'profile_expired', severity: 'error', app_profile_id: p.profileId, title: 'App authorization expired: Expiry Partner profile', in_portal: 1 });
      expect(expired.message).toMatch(/revoked|signed out|sessions/i);
      expect(expired.fix).toMatch(/Authorize the app profile again/);
      expect(JSON.parse(expired.data!)).toMatchObject({ appProfile: { id: p.profileId, tenantId: CONTOSO.id }, code: expect.stringMatching(/^AADSTS/) });

      const back = await p.browser.reauthorize(p.profileId, 'current', { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
      expect(back.result).toBe('reauthorized');
      expect(await types(p.partnerId)).toEqual(['profile_expired', 'profile_restored']);
      // A check of the Active profile resolves nothing more.
      expect((await p.client.post(`/api/app-profiles/${p.profileId}/check`, {})).body.status).toBe('active');
      expect(await types(p.partnerId)).toEqual(['profile_expired', 'profile_restored']);

      // A new lapse is a new episode: notified again.
      await revokeSessions(CONTOSO.admin);
      expect((await p.client.post(`/api/app-profiles/${p.profileId}/check`, {})).body.status).toBe('authorization_expired');
      expect(await types(p.partnerId)).toEqual(['profile_expired', 'profile_restored', 'profile_expired']);
      expect(new Set((await stored(p.partnerId)).map((n) => n.key)).size).toBe(3);
      // The other partner's profile (another tenant) is Active; it was told nothing.
      expect(await stored(other.partnerId)).toEqual([]);
    });

    it('resolves an expired episode when Check now succeeds again', async () => {
      const p = await partnerWithProfile('Check Partner', NORTHWIND.admin);
      await db().updateTable('app_profiles').set({ status: 'authorization_expired', status_code: 'AADSTS50173', status_message: 'The grant was revoked.', status_fix: 'Re-authorize.' }).where('id', '=', p.profileId).execute();
      await portal.services.notifications.notify({ partnerId: p.partnerId, type: 'profile_expired', severity: 'error', key: `profile-expired:${p.profileId}`, episode: 'open', title: 'expired', message: 'm' });
      expect((await p.client.post(`/api/app-profiles/${p.profileId}/check`, {})).body.status).toBe('active');
      const notes = await stored(p.partnerId);
      expect(notes.map((n) => n.type)).toEqual(['profile_expired', 'profile_restored']);
      expect(notes[1]).toMatchObject({ severity: 'resolved', title: 'App authorization restored: Check Partner profile' });
    });
  });

  describe('no successful refresh for 76 and 87 days', () => {
    it('warns 14 and then 3 days before the 90-day lapse, once each, and again after a later gap', async () => {
      const p = await partnerWithProfile('Lapse Partner', NORTHWIND.admin);
      const start = Date.now();
      let clock = new Date(start);
      // The portal's health monitor with a clock the test sets; Microsoft (the sandbox) keeps true time.
      const health = createProfileHealth({
        store: portal.services.appProfiles.store,
        box: portal.services.secretBox,
        oauth: portal.services.oauth,
        audit: portal.services.audit,
        notify: portal.services.notifications.notify,
        now: () => clock,
        sleep: async () => undefined,
      });
      const tokenEndpointDown = (requests: number) => sandbox('/faults', { tenantId: NORTHWIND.id, status: 503, requests, target: 'token' });
      const warnings = async () => (await stored(p.partnerId)).filter((n) => n.type === 'refresh_lapse_warning').map((n) => JSON.parse(n.data!).daysLeft as number);

      await tokenEndpointDown(1000);
      clock = new Date(start + 75 * DAY);
      await health.sweep({ olderThanMs: 0 });
      expect(await warnings()).toEqual([]);
      clock = new Date(start + 76 * DAY + 3600_000);
      await health.sweep({ olderThanMs: 0 });
      clock = new Date(start + 80 * DAY);
      await health.sweep({ olderThanMs: 0 });
      expect(await warnings()).toEqual([14]);
      const [first] = (await stored(p.partnerId)).filter((n) => n.type === 'refresh_lapse_warning');
      expect(first).toMatchObject({ severity: 'warning', app_profile_id: p.profileId, title: 'Lapse Partner profile: authorization lapses in 14 days' });
      expect(first.fix).toMatch(/Check now/);
      clock = new Date(start + 87 * DAY + 3600_000);
      await health.sweep({ olderThanMs: 0 });
      await health.sweep({ olderThanMs: 0 });
      expect(await warnings()).toEqual([14, 3]);

      // Microsoft answers again: the refresh succeeds and the window starts over; a later gap warns again.
      await tokenEndpointDown(0);
      await health.sweep({ olderThanMs: 0 });
      const row = await portal.services.appProfiles.store.get(p.partnerId, p.profileId);
      expect(row).toMatchObject({ status: 'active', token_used_at: clock.toISOString() });
      await tokenEndpointDown(1000);
      clock = new Date(clock.getTime() + 77 * DAY);
      await health.sweep({ olderThanMs: 0 });
      await tokenEndpointDown(0);
      expect(await warnings()).toEqual([14, 3, 14]);
    });
  });

  describe('permission drift', () => {
    it('notifies once when a refresh lacks a required permission, and resolves when the app is re-authorized', async () => {
      const p = await partnerWithProfile('Drift Partner', NORTHWIND.admin);
      const clientId = portal.services.microsoft.apps.global!.clientId;
      expect((await sandbox(`/tenants/${NORTHWIND.id}/remove-permissions`, { clientId, scopes: ['Domain.Read.All'] })).status).toBe(204);
      await portal.services.appProfiles.health.sweep({ olderThanMs: 0 });
      await portal.services.appProfiles.health.sweep({ olderThanMs: 0 });
      const drift = (await stored(p.partnerId)).filter((n) => n.type === 'permission_drift');
      expect(drift).toHaveLength(1);
      expect(drift[0]).toMatchObject({ title: 'Permissions missing: Drift Partner profile', severity: 'error', app_profile_id: p.profileId });
      expect(JSON.parse(drift[0].data!)).toMatchObject({ missing: ['Domain.Read.All'] });
      const profile = (await p.client.get(`/api/app-profiles/${p.profileId}`)).body;
      expect(profile.status).toBe('active');
      expect(profile.grantedScopes).not.toContain('Domain.Read.All');

      const back = await p.browser.reauthorize(p.profileId, 'current', { email: NORTHWIND.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
      expect(back.result).toBe('reauthorized');
      expect((await stored(p.partnerId)).map((n) => n.type)).toEqual(['permission_drift', 'permissions_restored']);
      await portal.services.appProfiles.health.sweep({ olderThanMs: 0 });
      expect((await stored(p.partnerId)).map((n) => n.type)).toEqual(['permission_drift', 'permissions_restored']);
    });
  });

  describe('checks and directory sync failing for a day', () => {
    it('alerts health checks failing for 24 hours once, and resolves when a refresh succeeds again', async () => {
      const p = await partnerWithProfile('Failing Partner', NORTHWIND.admin);
      const start = Date.now();
      let clock = new Date(start);
      const health = createProfileHealth({
        store: portal.services.appProfiles.store,
        box: portal.services.secretBox,
        oauth: portal.services.oauth,
        audit: portal.services.audit,
        notify: portal.services.notifications.notify,
        now: () => clock,
        sleep: async () => undefined,
      });
      const ofType = async (type: string) => (await stored(p.partnerId)).filter((n) => n.type === type);
      await sandbox('/faults', { tenantId: NORTHWIND.id, status: 503, requests: 1000, target: 'token' });
      clock = new Date(start + 12 * 3600_000);
      await health.sweep({ olderThanMs: 0 });
      expect(await ofType('checks_failing')).toEqual([]);
      clock = new Date(start + 25 * 3600_000);
      await health.sweep({ olderThanMs: 0 });
      clock = new Date(start + 30 * 3600_000);
      await health.sweep({ olderThanMs: 0 });
      const [failing, ...again] = await ofType('checks_failing');
      expect(again).toEqual([]);
      expect(failing).toMatchObject({ title: 'Checks failing for 24 hours: Failing Partner profile', severity: 'warning', app_profile_id: p.profileId });
      expect(failing.message).toMatch(/could not be refreshed since/);
      await sandbox('/faults', { tenantId: NORTHWIND.id, status: 503, requests: 0, target: 'token' });
      await health.sweep({ olderThanMs: 0 });
      expect(await ofType('checks_restored')).toHaveLength(1);
      await health.sweep({ olderThanMs: 0 });
      expect(await ofType('checks_restored')).toHaveLength(1);
    });

    it('alerts a directory sync failing for a day since its last completed run, once, and resolves when it completes', async () => {
      const p = await partnerWithProfile('Sync Partner');
      expect((await p.client.post('/api/users', { signInType: 'microsoft365', emails: [CONTOSO.user], appProfileId: p.profileId, role: 'member' })).status).toBe(200);
      let clock = new Date();
      const sync = createDirectorySync(
        { db: db(), sessions: portal.services.sessions },
        { graphs: portal.services.appProfiles.graphs, users: portal.services.users.store, profiles: portal.services.appProfiles.store, notify: portal.services.notifications.notify, now: () => clock },
      );
      expect((await sync.syncProfile(p.profileId)).error).toBeUndefined();
      const ofType = async (type: string) => (await stored(p.partnerId)).filter((n) => n.type === type);
      const failOnce = () => sandbox('/faults', { tenantId: CONTOSO.id, status: 500, requests: 1 });

      await failOnce();
      expect((await sync.syncProfile(p.profileId)).error).toBe('GRAPH_500');
      expect(await ofType('directory_sync_failing')).toEqual([]);
      clock = new Date(clock.getTime() + 25 * 3600_000);
      for (let i = 0; i < 2; i++) {
        await failOnce();
        expect((await sync.syncProfile(p.profileId)).error).toBe('GRAPH_500');
      }
      const [failing, ...again] = await ofType('directory_sync_failing');
      expect(again).toEqual([]);
      expect(failing).toMatchObject({ title: 'Directory sync failing for a day: Sync Partner profile', app_profile_id: p.profileId });
      expect(failing.message).toContain('GRAPH_500');
      expect((await sync.syncProfile(p.profileId)).error).toBeUndefined();
      expect(await ofType('directory_sync_restored')).toHaveLength(1);
    });
  });

  describe('group member download', () => {
    it('notifies a failed download once and resolves when a later download succeeds', async () => {
      const p = await partnerWithProfile('Group Partner');
      const added = await p.client.post('/api/users', { signInType: 'microsoft365', emails: ['support@contoso.com'], appProfileId: p.profileId, role: 'member' });
      const group = added.body.added[0];
      await portal.services.users.downloadGroupMembers(p.partnerId, group.id);
      expect(await types(p.partnerId)).toEqual([]);
      // Two failed downloads (each restarted as "Download again" does): one alert.
      for (let i = 0; i < 2; i++) {
        await sandbox('/faults', { tenantId: CONTOSO.id, status: 500, requests: 1 });
        expect((await p.client.post(`/api/users/${group.id}/download-members`)).status).toBe(200);
        await expect(portal.services.users.downloadGroupMembers(p.partnerId, group.id)).rejects.toThrow();
      }
      const [failed] = await stored(p.partnerId);
      expect(await types(p.partnerId)).toEqual(['group_download_failed']);
      expect(failed).toMatchObject({ title: 'Member download failed: support@contoso.com', link: '/settings/users', app_profile_id: p.profileId });
      expect(failed.message).toMatch(/stopped after/);
      expect((await p.client.post(`/api/users/${group.id}/download-members`)).status).toBe(200);
      await expect(portal.services.users.downloadGroupMembers(p.partnerId, group.id)).resolves.toEqual({ members: 2 });
      expect(await types(p.partnerId)).toEqual(['group_download_failed', 'group_download_restored']);
    });
  });

  describe('consent links', () => {
    const pathOf = (url: string) => new URL(url).pathname;

    it('notifies when a link is used, revoked or expires, each once', async () => {
      const partner = await signUpPartner(portal.url, 'Link Alerts Partner');
      const used = (await partner.client.post('/api/consent-links', { name: 'Northwind via link', cloud: 'global' })).body;
      const ga = new ApiClient(portal.url);
      const go = await ga.get(`${pathOf(used.url)}/continue`);
      const redirect = await new SandboxUserAgent().authorize(go.headers.get('location')!, { email: NORTHWIND.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
      await ga.get(`${redirect.pathname}${redirect.search}`);
      const usedNote = (await stored(partner.partnerId)).find((n) => n.type === 'consent_link_used');
      expect(usedNote).toMatchObject({ title: 'Consent link used: Northwind via link', severity: 'info' });
      expect(usedNote!.message).toContain('connected the tenant');
      expect(usedNote!.app_profile_id).toBeTruthy();

      const revoked = (await partner.client.post('/api/consent-links', { name: 'Revoked link', cloud: 'global' })).body;
      expect((await partner.client.delete(`/api/consent-links/${revoked.id}`)).status).toBe(204);
      expect((await partner.client.delete(`/api/consent-links/${revoked.id}`)).status).toBe(204);

      const expired = (await partner.client.post('/api/consent-links', { name: 'Expired link', cloud: 'global' })).body;
      await db().updateTable('consent_links').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('id', '=', expired.id).execute();
      expect(await portal.services.consentLinks.notifyExpired()).toBeGreaterThanOrEqual(1);
      await portal.services.consentLinks.notifyExpired();
      expect((await types(partner.partnerId)).sort()).toEqual(['consent_link_expired', 'consent_link_revoked', 'consent_link_used']);
      const expiredNote = (await stored(partner.partnerId)).find((n) => n.type === 'consent_link_expired');
      expect(expiredNote).toMatchObject({ title: 'Consent link expired: Expired link', severity: 'warning' });
    });
  });

  describe('API', () => {
    const event = (partnerId: string, key: string, title = key) => portal.services.notifications.notify({ partnerId, type: 'consent_link_revoked', severity: 'info', key, title, message: 'm' });

    async function memberOf(partnerId: string) {
      const email = `member-${Math.random().toString(36).slice(2)}@acme-partner.test`;
      await insertLocalUser(db(), partnerId, { email, password: 'silver-forest-river-9', role: 'member' });
      const client = new ApiClient(portal.url);
      expect((await client.post('/api/session', { email, password: 'silver-forest-river-9' })).status).toBe(200);
      return client;
    }

    it('lists newest first with the unread count, pages, filters unread, and keeps read state per person', async () => {
      const partner = await signUpPartner(portal.url, 'List Partner');
      const member = await memberOf(partner.partnerId);
      for (const key of ['one', 'two', 'three']) {
        await event(partner.partnerId, key);
        await new Promise((r) => setTimeout(r, 3)); // distinct times: the order is by time
      }
      const all = await partner.client.get('/api/notifications');
      expect(all.status).toBe(200);
      expect(all.body.items.map((n: { title: string }) => n.title)).toEqual(['three', 'two', 'one']);
      expect(all.body).toMatchObject({ unread: 3, nextCursor: null });
      expect(all.body.items[0]).toMatchObject({ type: 'consent_link_revoked', severity: 'info', read: false, fix: null, link: null });

      const first = await partner.client.get('/api/notifications?limit=2');
      expect(first.body.items.map((n: { title: string }) => n.title)).toEqual(['three', 'two']);
      const second = await partner.client.get(`/api/notifications?limit=2&cursor=${first.body.nextCursor}`);
      expect(second.body.items.map((n: { title: string }) => n.title)).toEqual(['one']);
      expect(second.body.nextCursor).toBeNull();
      expect((await partner.client.get('/api/notifications?cursor=nonsense')).status).toBe(400);

      const threeId = all.body.items[0].id;
      expect((await partner.client.post('/api/notifications/read', { ids: [threeId] })).status).toBe(204);
      const unread = await partner.client.get('/api/notifications?unread=true');
      expect(unread.body.items.map((n: { title: string }) => n.title)).toEqual(['two', 'one']);
      expect(unread.body.unread).toBe(2);
      expect((await partner.client.get('/api/notifications')).body.items[0]).toMatchObject({ id: threeId, read: true });
      // Read state is each person's: the Member still has all three unread, and may mark them too.
      expect((await member.get('/api/notifications')).body.unread).toBe(3);
      expect((await member.post('/api/notifications/read', { ids: [threeId] })).status).toBe(204);
      expect((await member.get('/api/notifications')).body.unread).toBe(2);
    });

    it('never shows one partner’s notifications to another, nor lets it mark them', async () => {
      const a = await signUpPartner(portal.url, 'Partner A');
      const b = await signUpPartner(portal.url, 'Partner B');
      await event(a.partnerId, 'secret', 'A only');
      const [mine] = (await a.client.get('/api/notifications')).body.items;
      expect((await b.client.get('/api/notifications')).body).toEqual({ items: [], unread: 0, nextCursor: null });
      expect((await b.client.post('/api/notifications/read', { ids: [mine.id] })).status).toBe(204);
      expect(await db().selectFrom('notification_reads').selectAll().where('notification_id', '=', mine.id).execute()).toEqual([]);
      // The same key in another partner is another partner's event.
      await event(b.partnerId, 'secret', 'B only');
      expect((await b.client.get('/api/notifications')).body.items.map((n: { title: string }) => n.title)).toEqual(['B only']);
      expect((await a.client.get('/api/notifications')).body.items.map((n: { title: string }) => n.title)).toEqual(['A only']);
    });

    it('lets Administrators turn channels off and opt out of email; a Member reads the settings but cannot change them', async () => {
      const partner = await signUpPartner(portal.url, 'Settings Partner');
      const member = await memberOf(partner.partnerId);
      expect((await partner.client.get('/api/notification-settings')).body).toEqual({ channels: { portal: true, email: true }, emailOptOut: false });
      const denied = await member.put('/api/notification-settings', { channels: { portal: false } });
      expect(denied.status).toBe(403);
      expect((await member.get('/api/notification-settings')).body.channels).toEqual({ portal: true, email: true });

      const saved = await partner.client.put('/api/notification-settings', { channels: { portal: false }, emailOptOut: true });
      expect(saved.status).toBe(200);
      expect(saved.body).toEqual({ channels: { portal: false, email: true }, emailOptOut: true });
      expect((await member.get('/api/notification-settings')).body).toEqual({ channels: { portal: false, email: true }, emailOptOut: false });
      expect((await partner.client.put('/api/notification-settings', { channels: { portal: 'yes' } })).status).toBe(400);
      // With the portal channel off, an event is not shown in the portal.
      await event(partner.partnerId, 'hidden');
      expect((await partner.client.get('/api/notifications')).body).toMatchObject({ items: [], unread: 0 });
      await partner.client.put('/api/notification-settings', { channels: { portal: true } });
      await event(partner.partnerId, 'shown');
      expect((await partner.client.get('/api/notifications')).body.items.map((n: { title: string }) => n.title)).toEqual(['shown']);
      const audit = await partner.client.get('/api/audit?action=notification_settings.update');
      expect(audit.body.items).toHaveLength(2);
    });
  });
});

describe.each(testEngines())('alert emails on %s', (engine) => {
  let portal: TestPortal;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  beforeAll(async () => {
    smtp = await startSmtpServer({ refuse: ['bounce@acme-partner.test'] });
    portal = await startTestPortal(engine, { SMTP_URL: smtp.url, SMTP_FROM: 'alerts@tenantgate.test' });
  });
  afterAll(async () => {
    await portal?.close();
    await smtp?.close();
  });

  const db = () => portal.services.db;
  const mailsTo = (email: string) => smtp.mails.filter((m) => m.to.includes(email));
  const body = (data: string) => data.replace(/=\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  const signIn = async (email: string, password: string) => {
    const client = new ApiClient(portal.url);
    expect((await client.post('/api/session', { email, password })).status).toBe(200);
    return client;
  };

  it('mails an expired profile once to each Administrator who did not opt out, never to Members', async () => {
    const owner = await signUpPartner(portal.url, 'Mail Partner');
    const password = 'silver-forest-river-9';
    const admin2 = `second-${Date.now()}@acme-partner.test`;
    const quiet = `quiet-${Date.now()}@acme-partner.test`;
    const member = `member-${Date.now()}@acme-partner.test`;
    await insertLocalUser(db(), owner.partnerId, { email: admin2, password, role: 'administrator' });
    await insertLocalUser(db(), owner.partnerId, { email: quiet, password, role: 'administrator' });
    await insertLocalUser(db(), owner.partnerId, { email: member, password, role: 'member' });
    expect((await (await signIn(quiet, password)).put('/api/notification-settings', { emailOptOut: true })).status).toBe(200);

    const browser = new AdminBrowser(owner.client);
    const outcome = await browser.createProfile('Mailed profile', { email: NORTHWIND.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
    expect(outcome.result).toBe('created');
    await fetch(`${portal.sandbox!.baseUrl}/_sandbox/tenants/${NORTHWIND.id}/users/${NORTHWIND.admin}/revoke-sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    for (let i = 0; i < 2; i++) expect((await owner.client.post(`/api/app-profiles/${outcome.profileId}/check`, {})).body.status).toBe('authorization_expired');

    await expect.poll(() => mailsTo(owner.email).length + mailsTo(admin2).length).toBe(2);
    const [mail] = mailsTo(owner.email);
    expect(mail.from).toBe('alerts@tenantgate.test');
    expect(mail.data).toContain('Subject: Tenantgate alert: App authorization expired: Mailed profile');
    const text = body(mail.data);
    expect(text).toContain('How to fix: Authorize the app profile again');
    expect(text).toContain(`Open it in Tenantgate: ${portal.url}/settings/app-profiles`);
    expect(text).toContain('Settings > Alerts');
    // Opted out, a Member, or the same condition seen again: nothing more.
    await new Promise((r) => setTimeout(r, 300));
    expect(mailsTo(quiet)).toEqual([]);
    expect(mailsTo(member)).toEqual([]);
    expect(mailsTo(owner.email)).toHaveLength(1);
    const deliveries = await db().selectFrom('notification_deliveries').select(['recipient', 'status']).where('partner_id', '=', owner.partnerId).orderBy('recipient').execute();
    expect(deliveries).toEqual([{ recipient: owner.email, status: 'sent' }, { recipient: admin2, status: 'sent' }].sort((a, b) => a.recipient.localeCompare(b.recipient)));
  });

  it('sends nothing by email while the partner has the email channel off, records a refused address, and still shows the bell', async () => {
    const owner = await signUpPartner(portal.url, 'Quiet Mail Partner');
    await insertLocalUser(db(), owner.partnerId, { email: 'bounce@acme-partner.test', password: 'silver-forest-river-9', role: 'administrator' });
    const event = (key: string) => portal.services.notifications.notify({ partnerId: owner.partnerId, type: 'consent_link_revoked', severity: 'info', key, title: `Alert ${key}`, message: 'm' });
    expect((await owner.client.put('/api/notification-settings', { channels: { email: false } })).status).toBe(200);
    await event('off');
    await owner.client.put('/api/notification-settings', { channels: { email: true } });
    await event('on');
    await expect.poll(() => mailsTo(owner.email).length).toBe(1);
    expect(mailsTo(owner.email)[0].data).toContain('Subject: Tenantgate alert: Alert on');
    await expect.poll(async () => (await db().selectFrom('notification_deliveries').select('status').where('recipient', '=', 'bounce@acme-partner.test').executeTakeFirst())?.status).toBe('failed');
    expect((await owner.client.get('/api/notifications')).body.items.map((n: { title: string }) => n.title)).toEqual(['Alert on', 'Alert off']);
  });
});

describe.each(testEngines())('alert mail while the mail server is down on %s (a job of the durable queue)', (engine) => {
  let portal: TestPortal;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>> | undefined;
  let smtpPort: number;
  beforeAll(async () => {
    smtpPort = await freePort();
    portal = await startTestPortal(engine, { SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, SMTP_FROM: 'alerts@tenantgate.test' }, { backgroundJobs: true });
  });
  afterAll(async () => {
    await portal?.close();
    await smtp?.close();
  });

  it('mails the alert once after the server comes up, and never twice', async () => {
    const owner = await signUpPartner(portal.url, 'Outage Mail Partner');
    const event = () => portal.services.notifications.notify({ partnerId: owner.partnerId, type: 'consent_link_revoked', severity: 'info', key: 'outage', title: 'Alert during outage', message: 'm' });
    await event();
    const job = () => portal.services.db.selectFrom('jobs').selectAll().where('kind', '=', 'alert-mail').where('partner_id', '=', owner.partnerId).execute();
    await expect.poll(async () => (await job()).map((j) => [j.state, j.attempts])).toEqual([['queued', 1]]);
    await event(); // the same event again changes nothing

    smtp = await startSmtpServer({ port: smtpPort });
    await expect.poll(() => smtp!.mails.length, { timeout: 15_000, interval: 100 }).toBe(1);
    expect(smtp.mails[0].to).toEqual([owner.email]);
    expect(smtp.mails[0].data).toContain('Subject: Tenantgate alert: Alert during outage');
    await expect.poll(async () => (await job()).map((j) => [j.state, j.attempts])).toEqual([['done', 2]]);
    const delivery = await portal.services.db.selectFrom('notification_deliveries').select(['recipient', 'status']).where('partner_id', '=', owner.partnerId).execute();
    expect(delivery).toEqual([{ recipient: owner.email, status: 'sent' }]);
    // Another event and more polls of the queue: the first alert is not mailed again.
    await event();
    await new Promise((r) => setTimeout(r, 2_500));
    expect(smtp.mails).toHaveLength(1);
  }, 30_000);
});
