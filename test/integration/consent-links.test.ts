import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, signUpPartner } from '../support/api-client';
import { testEngines } from '../support/engines';
import { CONTOSO, NORTHWIND, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../support/portal';
import { SandboxUserAgent } from '../support/sandbox-user-agent';

/**
 * Issue 10, section 3: a single-use consent link lets a Global Administrator who has no portal account create
 * or re-authorize a partner's app profile, with exactly the checks of the portal's own round trips.
 */
describe.each(testEngines())('consent links on %s', (engine) => {
  let portal: TestPortal;
  let partner: Awaited<ReturnType<typeof signUpPartner>>;

  beforeAll(async () => {
    portal = await startTestPortal(engine);
    partner = await signUpPartner(portal.url, 'Link Partner');
  });
  afterAll(async () => {
    await portal?.close();
  });

  const pathOf = (url: string) => new URL(url).pathname;
  const profiles = () => portal.services.db.selectFrom('app_profiles').select(['id', 'name', 'status', 'authorized_by_upn', 'partner_id']).where('partner_id', '=', partner.partnerId).execute();

  /** The Global Administrator's own browser: no portal session, opens the link, goes to Microsoft and back. */
  async function useLink(url: string, account: { email: string; consent?: 'accept' | 'cancel' }) {
    const ga = new ApiClient(portal.url);
    const page = await ga.get(pathOf(url));
    expect(page.status).toBe(200);
    const go = await ga.get(`${pathOf(url)}/continue`);
    expect(go.status).toBe(303);
    const authorizeUrl = new URL(go.headers.get('location')!);
    const redirect = await new SandboxUserAgent().authorize(authorizeUrl, { email: account.email, password: SAMPLE_PASSWORD, consent: account.consent ?? 'accept' });
    const callback = await ga.get(`${redirect.pathname}${redirect.search}`);
    expect(callback.status).toBe(303);
    const done = await ga.get(callback.headers.get('location')!);
    return { ga, page: page.body as string, authorizeUrl, donePath: callback.headers.get('location')!, done: done.body as string, doneStatus: done.status };
  }

  it('creates a profile through a link: shown once, hash stored, page says who asks, what, why and where', async () => {
    const res = await partner.client.post('/api/consent-links', { name: 'Contoso via link', cloud: 'global', email: CONTOSO.admin });
    expect(res.status).toBe(201);
    const { id, url, expiresAt } = res.body as { id: string; url: string; expiresAt: string };
    expect(url).toMatch(new RegExp(`^${portal.url}/consent/[A-Za-z0-9_-]{43}$`));
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(71.9 * 3600_000);
    expect(Date.parse(expiresAt) - Date.now()).toBeLessThanOrEqual(72 * 3600_000);
    const token = url.split('/').pop()!;
    const row = await portal.services.db.selectFrom('consent_links').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(token);
    expect((await partner.client.get('/api/consent-links')).body.links).toEqual([expect.objectContaining({ id, kind: 'create', state: 'waiting', profileName: 'Contoso via link', cloud: 'global' })]);

    const used = await useLink(url, { email: CONTOSO.admin });
    expect(used.page).toContain('Link Partner');
    expect(used.page).toContain('Global Microsoft 365');
    expect(used.page).toContain('Read group memberships');
    expect(used.page).toContain('to confirm that the consenting account is a Global Administrator');
    expect(used.authorizeUrl.searchParams.get('prompt')).toBe('consent');
    expect(used.authorizeUrl.searchParams.get('login_hint')).toBe(CONTOSO.admin);
    expect(used.donePath).toBe(`/consent/done?link=${id}`);
    expect(used.done).toContain('Your tenant is now connected as “Contoso via link” for Link Partner.');
    expect(await profiles()).toEqual([expect.objectContaining({ name: 'Contoso via link', status: 'active', authorized_by_upn: CONTOSO.admin })]);
    expect((await partner.client.get('/api/consent-links')).body.links[0]).toMatchObject({ id, state: 'used', outcome: 'created' });
    const audit = await portal.services.db.selectFrom('audit_events').selectAll().where('partner_id', '=', partner.partnerId).where('action', '=', 'app_profile.create').executeTakeFirstOrThrow();
    expect(JSON.parse(audit.details ?? '{}')).toMatchObject({ consentLinkId: id, microsoftAccount: CONTOSO.admin });

    // Used: a clear page, and a second trip to Microsoft cannot start.
    const again = await new ApiClient(portal.url).get(pathOf(url));
    expect(again.status).toBe(410);
    expect(again.body).toContain('already used');
    expect((await new ApiClient(portal.url).get(`${pathOf(url)}/continue`)).status).toBe(410);
    // The outcome page belongs to the browser that went to Microsoft.
    expect((await new ApiClient(portal.url).get(used.donePath)).status).toBe(404);
  });

  it('re-authorizes an expired profile through a link', async () => {
    const [profile] = await profiles();
    const sandbox = (path: string) => fetch(`${portal.sandbox!.baseUrl}/_sandbox${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect((await sandbox(`/tenants/${CONTOSO.id}/users/${CONTOSO.admin}/revoke-sessions`)).status).toBeLessThan(300);
    expect((await partner.client.post(`/api/app-profiles/${profile.id}/check`, {})).body.status).toBe('authorization_expired');
    const res = await partner.client.post(`/api/app-profiles/${profile.id}/consent-links`, {});
    expect(res.status).toBe(201);
    const used = await useLink(res.body.url, { email: CONTOSO.admin2 });
    expect(used.page).toContain('authorize its connection “Contoso via link” to your Microsoft 365 tenant again');
    expect(used.done).toContain('is authorized again');
    expect(await profiles()).toEqual([expect.objectContaining({ id: profile.id, status: 'active', authorized_by_upn: CONTOSO.admin2 })]);
  });

  it('refuses an account that is no Global Administrator, changes nothing and keeps the link open', async () => {
    const res = await partner.client.post('/api/consent-links', { name: 'Northwind via link', cloud: 'global' });
    const used = await useLink(res.body.url, { email: 'nora@northwind.com' });
    expect(used.done).toContain('is not a Global Administrator');
    expect(used.done).toContain('the link still works');
    expect((await profiles()).map((p) => p.name)).not.toContain('Northwind via link');
    expect((await partner.client.get('/api/consent-links')).body.links.find((l: { id: string }) => l.id === res.body.id)).toMatchObject({ state: 'waiting', outcome: 'NOT_GLOBAL_ADMIN' });
    // The right account then succeeds with the same link.
    const second = await useLink(res.body.url, { email: NORTHWIND.admin });
    expect(second.done).toContain('is now connected');
  });

  it('shows revoked and expired links clearly and changes nothing; a link never acts for another partner', async () => {
    const revoked = (await partner.client.post('/api/consent-links', { name: 'Revoked', cloud: 'global' })).body;
    const other = await signUpPartner(portal.url, 'Other Partner');
    expect((await other.client.delete(`/api/consent-links/${revoked.id}`)).status).toBe(404);
    expect((await other.client.get('/api/consent-links')).body.links).toEqual([]);
    expect((await partner.client.delete(`/api/consent-links/${revoked.id}`)).status).toBe(204);
    const page = await new ApiClient(portal.url).get(pathOf(revoked.url));
    expect(page.status).toBe(410);
    expect(page.body).toContain('withdrawn');
    expect((await new ApiClient(portal.url).get(`${pathOf(revoked.url)}/continue`)).status).toBe(410);

    const expired = (await partner.client.post('/api/consent-links', { name: 'Expired', cloud: 'global' })).body;
    // A round trip started in time, finished after the link expired, changes nothing either.
    const ga = new ApiClient(portal.url);
    const go = await ga.get(`${pathOf(expired.url)}/continue`);
    expect(go.status).toBe(303);
    await portal.services.db.updateTable('consent_links').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('id', '=', expired.id).execute();
    const redirect = await new SandboxUserAgent().authorize(go.headers.get('location')!, { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
    await ga.get(`${redirect.pathname}${redirect.search}`);
    expect((await profiles()).map((p) => p.name)).not.toContain('Expired');
    const expiredPage = await new ApiClient(portal.url).get(pathOf(expired.url));
    expect(expiredPage.status).toBe(410);
    expect(expiredPage.body).toContain('expired');
    expect((await partner.client.get('/api/consent-links')).body.links.find((l: { id: string }) => l.id === expired.id)).toMatchObject({ state: 'expired' });

    expect((await new ApiClient(portal.url).get('/consent/not-a-real-token')).status).toBe(404);
    expect((await other.client.post(`/api/app-profiles/${(await profiles())[0].id}/consent-links`, {})).status).toBe(404);
  });

  it('holds the suggested email to the portal’s one email rule, on both link routes', async () => {
    const [profile] = await profiles();
    const bad = [`${'a'.repeat(250)}@contoso.com`, 'pat@contoso', '"pat"@contoso.com'];
    for (const email of bad) {
      const created = await partner.client.post('/api/consent-links', { name: 'Bad email', cloud: 'global', email });
      expect([created.status, created.body.error?.code, created.body.error?.details?.field], email).toEqual([400, 'VALIDATION_FAILED', 'email']);
      const again = await partner.client.post(`/api/app-profiles/${profile.id}/consent-links`, { email });
      expect([again.status, again.body.error?.details?.field], email).toEqual([400, 'email']);
    }
    const good = await partner.client.post('/api/consent-links', { name: 'Good email', cloud: 'global', email: ' Pat@Contoso.COM ' });
    expect(good.status).toBe(201);
    expect((await partner.client.get('/api/consent-links')).body.links.find((l: { id: string }) => l.id === good.body.id)).toMatchObject({ email: 'pat@contoso.com' });
  });

  it('settles a link whose round trip fails unexpectedly: the outcome page shows, and the link works again', async () => {
    const db = portal.services.db;
    // A fault no refusal covers: the database refuses the new profile's row.
    const fault =
      engine === 'postgres'
        ? [
            sql`CREATE FUNCTION tg_fault() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$`,
            sql`CREATE TRIGGER tg_fault BEFORE INSERT ON app_profiles FOR EACH ROW EXECUTE FUNCTION tg_fault()`,
          ]
        : [sql`CREATE TRIGGER tg_fault BEFORE INSERT ON app_profiles BEGIN SELECT RAISE(ABORT, 'injected fault'); END`];
    const cure = engine === 'postgres' ? [sql`DROP TRIGGER tg_fault ON app_profiles`, sql`DROP FUNCTION tg_fault()`] : [sql`DROP TRIGGER tg_fault`];
    const faulty = await signUpPartner(portal.url, 'Faulty Partner');
    const link = (await faulty.client.post('/api/consent-links', { name: 'Contoso at fault', cloud: 'global' })).body as { id: string; url: string };
    for (const statement of fault) await statement.execute(db);
    let used: Awaited<ReturnType<typeof useLink>>;
    try {
      used = await useLink(link.url, { email: CONTOSO.admin });
    } finally {
      for (const statement of cure) await statement.execute(db);
    }
    expect(used.donePath).toBe(`/consent/done?link=${link.id}`);
    expect(used.doneStatus).toBe(200);
    expect(used.done).toContain('The portal could not finish the connection');
    expect(used.done).toContain('the link still works');
    expect((await faulty.client.get('/api/consent-links')).body.links[0]).toMatchObject({ id: link.id, state: 'waiting', outcome: 'UNEXPECTED_ERROR' });
    // Given back, not stuck: the same link then connects the tenant.
    const second = await useLink(link.url, { email: CONTOSO.admin });
    expect(second.done).toContain('is now connected');
    expect((await faulty.client.get('/api/consent-links')).body.links[0]).toMatchObject({ id: link.id, state: 'used', outcome: 'created' });
  });
});

describe('the public consent-link page is rate-limited per address', () => {
  let portal: TestPortal;
  beforeAll(async () => {
    portal = await startTestPortal('sqlite', { TENANTGATE_RATE_LIMIT_ANONYMOUS_PER_MINUTE: '3' });
  });
  afterAll(async () => {
    await portal?.close();
  });

  it('answers 429 once an address guessed too many links in a minute', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await fetch(`${portal.url}/consent/${'a'.repeat(43)}`)).status);
    expect(statuses).toEqual([404, 404, 404, 429, 429]);
  });
});
