import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, signUpPartner } from '../support/api-client';
import { insertLocalUser } from '../support/db-fixtures';
import { testEngines } from '../support/engines';
import { AdminBrowser, CONTOSO, FABRIKAM_GOV, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../support/portal';
import { SandboxPageError, SandboxUserAgent } from '../support/sandbox-user-agent';

const SALES = 'c1c1c1c1-0001-4000-8000-000000000001';
const SALES_EMEA = 'c1c1c1c1-0002-4000-8000-000000000002';
const SUPPORT = 'c1c1c1c1-0003-4000-8000-000000000003';
const FIELD_AGENTS = 'e4e4e4e4-0001-4000-8000-000000000001';
const TAILSPIN_DOD_ID = '5d7f9b13-6c8e-4a20-9b3d-5f7a9c1e3b42';
const WATCH_OFFICERS = 'd4d4d4d4-9001-4000-8000-000000009001';

describe.each(testEngines())('single sign-on with Microsoft 365 on %s', (engine) => {
  let portal: TestPortal;
  const logLines: { level: number; msg: string; err?: { message?: string } }[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as (typeof logLines)[number]);
      done();
    },
  });
  const sandbox = (method: string, path: string, body?: unknown) =>
    fetch(`${portal.sandbox!.baseUrl}/_sandbox${path}`, { method, headers: body === undefined && method !== 'POST' ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const objectId = async (tenantId: string, upn: string): Promise<string> => {
    const res = await sandbox('PATCH', `/tenants/${tenantId}/users/${encodeURIComponent(upn)}`, {});
    expect(res.status).toBe(200);
    return ((await res.json()) as { id: string }).id.toLowerCase();
  };

  beforeAll(async () => {
    // The US Gov Virginia data center offers both clouds (global and usgov profiles side by side).
    portal = await startTestPortal(engine, { TENANTGATE_DATA_CENTER: 'us-gov-virginia', LOG_LEVEL: 'error' }, { logStream });
  });
  afterAll(async () => {
    await portal?.close();
  });

  async function partnerWithProfile(name: string, admin: string, cloud: 'global' | 'usgov' = 'global') {
    const partner = await signUpPartner(portal.url, name);
    const browser = new AdminBrowser(partner.client);
    const outcome = await browser.createProfile(`${name} M365`, { email: admin, password: SAMPLE_PASSWORD, consent: 'accept' }, cloud);
    expect(outcome.result, outcome.location).toBe('created');
    return { ...partner, profileId: outcome.profileId! };
  }

  /** Adds a Microsoft 365 user entry the way user management stores it. */
  async function addUserEntry(partnerId: string, profileId: string, tenantId: string, upn: string, role: 'administrator' | 'member' = 'member'): Promise<string> {
    const id = randomUUID();
    const now = new Date().toISOString();
    await portal.services.db
      .insertInto('users')
      .values({ id, partner_id: partnerId, email: upn, email_key: upn, display_name: upn.split('@')[0], password_hash: null, role, is_owner: 0, sign_in_type: 'microsoft365', kind: 'user', status: 'active', app_profile_id: profileId, ms_tenant_id: tenantId, ms_object_id: await objectId(tenantId, upn), created_at: now, updated_at: now })
      .execute();
    return id;
  }

  /** Adds a group entry and its transitive members (object ids), as user management does when a group is added. */
  async function addGroupEntry(partnerId: string, profileId: string, tenantId: string, groupId: string, members: string[], role: 'administrator' | 'member'): Promise<string> {
    const id = randomUUID();
    const now = new Date().toISOString();
    await portal.services.db
      .insertInto('users')
      .values({ id, partner_id: partnerId, email: `${groupId}@group.test`, email_key: `${groupId}@group.test`, display_name: groupId, password_hash: null, role, is_owner: 0, sign_in_type: 'microsoft365', kind: 'group', status: 'active', app_profile_id: profileId, ms_tenant_id: tenantId, ms_object_id: groupId, created_at: now, updated_at: now })
      .execute();
    for (const upn of members) await portal.services.db.insertInto('group_members').values({ partner_id: partnerId, group_user_id: id, member_object_id: await objectId(tenantId, upn) }).execute();
    return id;
  }

  /** The browser of a person: portal client (with the binding cookie) and a browser at Microsoft. */
  async function signIn(email: string, options: { query?: string; password?: string } = {}) {
    const client = new ApiClient(portal.url);
    const start = await client.get(`/auth/microsoft/sign-in?${options.query ?? `email=${encodeURIComponent(email)}`}`);
    expect(start.status).toBe(303);
    const authorizeUrl = new URL(start.headers.get('location')!);
    const agent = new SandboxUserAgent();
    let redirect: URL;
    try {
      redirect = await agent.authorize(authorizeUrl, { email, password: options.password ?? SAMPLE_PASSWORD });
    } catch (error) {
      if (error instanceof SandboxPageError) return { client, authorizeUrl, refusedAtMicrosoft: error.code, location: null as string | null };
      throw error;
    }
    const callback = await client.get(`${redirect.pathname}${redirect.search}`);
    expect(callback.status).toBe(303);
    return { client, authorizeUrl, refusedAtMicrosoft: null, location: callback.headers.get('location'), redirect };
  }

  const auditOf = async (partnerId: string) =>
    (await portal.services.db.selectFrom('audit_events').selectAll().where('partner_id', '=', partnerId).where('action', '=', 'session.signin').orderBy('at', 'desc').execute()).map((e) => ({ ...e, details: JSON.parse(e.details ?? '{}') }));

  let contoso: Awaited<ReturnType<typeof partnerWithProfile>>;
  let salesEntry: string;

  beforeAll(async () => {
    contoso = await partnerWithProfile('Contoso Partner', CONTOSO.admin);
    await addUserEntry(contoso.partnerId, contoso.profileId, CONTOSO.id, 'alex@contoso.com', 'member');
    salesEntry = await addGroupEntry(contoso.partnerId, contoso.profileId, CONTOSO.id, SALES, ['alex@contoso.com', 'diego@contoso.com'], 'administrator');
  });

  it('lets an added user in: PKCE round trip at Microsoft, session cookie, session of type microsoft365, audited', async () => {
    const { client, authorizeUrl, location } = await signIn('alex@contoso.com');
    expect(authorizeUrl.pathname).toMatch(/\/organizations\/oauth2\/v2\.0\/authorize$/);
    expect(authorizeUrl.searchParams.get('login_hint')).toBe('alex@contoso.com');
    expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorizeUrl.searchParams.get('scope')!.split(' ')).toEqual(expect.arrayContaining(['openid', 'profile']));
    expect(location).toBe('/');
    expect(client.jar.get('tg_session')).toBeTruthy();
    const session = await client.get('/api/session');
    expect(session.status).toBe(200);
    // The user entry says Member, the Sales group (alex is a member) says Administrator: the higher wins.
    expect(session.body.user).toMatchObject({ email: 'alex@contoso.com', signInType: 'microsoft365', role: 'administrator' });
    expect(session.body.partner.id).toBe(contoso.partnerId);
    expect((await client.get('/api/audit')).status).toBe(200);
    expect(JSON.stringify(session.body)).not.toMatch(/eyJ/); // no token in any answer
    const audit = await auditOf(contoso.partnerId);
    expect(audit[0]).toMatchObject({ outcome: 'success', details: { method: 'microsoft365' } });
  });

  it('lets a nested member of an added group in and creates their record with the group role', async () => {
    const diego = await objectId(CONTOSO.id, 'diego@contoso.com');
    const { client, location } = await signIn('diego@contoso.com');
    expect(location).toBe('/');
    const session = await client.get('/api/session');
    expect(session.body.user).toMatchObject({ email: 'diego@contoso.com', role: 'administrator', signInType: 'microsoft365' });
    const record = await portal.services.db.selectFrom('users').selectAll().where('partner_id', '=', contoso.partnerId).where('ms_object_id', '=', diego).executeTakeFirstOrThrow();
    expect(record).toMatchObject({ kind: 'user', sign_in_type: 'microsoft365', via_group_id: salesEntry, app_profile_id: contoso.profileId, ms_tenant_id: CONTOSO.id, role: 'administrator', status: 'active' });
    // A second sign-in reuses the record.
    await signIn('diego@contoso.com');
    const count = await portal.services.db.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).where('ms_object_id', '=', diego).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(1);
  });

  it('lets in a member added in the tenant after the group was added (live check), and refuses one removed in the tenant with REMOVED_FROM_GROUP', async () => {
    // adele joins Sales EMEA in the tenant: not yet in group_members, still let in at once.
    expect((await sandbox('POST', `/tenants/${CONTOSO.id}/groups/${SALES_EMEA}/members`, { member: 'adele@contoso.com' })).status).toBeLessThan(300);
    const joined = await signIn('adele@contoso.com');
    expect(joined.location).toBe('/');
    // Removed in the tenant (nested group) before any sync: refused at the next sign-in and the session gone.
    expect((await sandbox('DELETE', `/tenants/${CONTOSO.id}/groups/${SALES_EMEA}/members/adele@contoso.com`)).status).toBeLessThan(300);
    const again = await signIn('adele@contoso.com');
    expect(again.location).toBe('/signin?error=REMOVED_FROM_GROUP');
    expect(again.client.jar.get('tg_session')).toBeUndefined();
    expect((await joined.client.get('/api/session')).status).toBe(401);
    const audit = await auditOf(contoso.partnerId);
    expect(audit[0]).toMatchObject({ outcome: 'failure', actor_email: 'adele@contoso.com', details: { method: 'microsoft365', code: 'REMOVED_FROM_GROUP' } });
  });

  it('refuses an account that was not added with NOT_ADDED', async () => {
    const res = await signIn('megan@contoso.com');
    expect(res.location).toBe('/signin?error=NOT_ADDED');
    expect(res.client.jar.get('tg_session')).toBeUndefined();
  });

  it('refuses disabled accounts: at Microsoft (AADSTS50057 on the callback) and entries disabled in the portal', async () => {
    const refused = await signIn('disabled@contoso.com');
    expect(refused.refusedAtMicrosoft).toBe('AADSTS50057');
    // What Microsoft sends back when it refuses a disabled account on the redirect.
    const state = refused.authorizeUrl.searchParams.get('state')!;
    const callback = await refused.client.get(`/auth/microsoft/callback?state=${encodeURIComponent(state)}&error=access_denied&error_description=${encodeURIComponent('AADSTS50057: The user account is disabled.')}`);
    expect(callback.headers.get('location')).toBe('/signin?error=ACCOUNT_DISABLED');

    const northwindUser = await addUserEntry(contoso.partnerId, contoso.profileId, CONTOSO.id, 'megan@contoso.com');
    await portal.services.db.updateTable('users').set({ status: 'disabled' }).where('id', '=', northwindUser).execute();
    const res = await signIn('megan@contoso.com');
    expect(res.location).toBe('/signin?error=ACCOUNT_DISABLED');
    expect((await auditOf(contoso.partnerId))[0]).toMatchObject({ outcome: 'failure', details: { code: 'ACCOUNT_DISABLED' } });
  });

  it('refuses a replayed or forged state with STATE_INVALID', async () => {
    const first = await signIn('alex@contoso.com');
    expect(first.location).toBe('/');
    first.client.jar.delete('tg_session');
    const replay = await first.client.get(`${first.redirect!.pathname}${first.redirect!.search}`);
    expect(replay.headers.get('location')).toBe('/signin?error=STATE_INVALID');
    const forged = await new ApiClient(portal.url).get('/auth/microsoft/callback?state=forged-state&code=abc');
    expect(forged.headers.get('location')).toBe('/signin?error=STATE_INVALID');
    // Another browser cannot finish this browser's round trip.
    const client = new ApiClient(portal.url);
    const start = await client.get('/auth/microsoft/sign-in?email=alex@contoso.com');
    const redirect = await new SandboxUserAgent().authorize(start.headers.get('location')!, { email: 'alex@contoso.com', password: SAMPLE_PASSWORD });
    const thief = await new ApiClient(portal.url).get(`${redirect.pathname}${redirect.search}`);
    expect(thief.headers.get('location')).toBe('/signin?error=STATE_INVALID');
    expect(thief.headers.getSetCookie().some((c) => c.startsWith('tg_session='))).toBe(false);
  });

  it('lets a person added by two partners choose, bound to their browser', async () => {
    const other = await partnerWithProfile('Second Partner', CONTOSO.admin2);
    await addGroupEntry(other.partnerId, other.profileId, CONTOSO.id, SUPPORT, [], 'member');
    // alex is a user entry of the first partner and joins Support, a group entry of the second.
    expect((await sandbox('POST', `/tenants/${CONTOSO.id}/groups/${SUPPORT}/members`, { member: 'alex@contoso.com' })).status).toBeLessThan(300);
    const res = await signIn('alex@contoso.com');
    expect(res.location).toBe('/signin?choose=1');
    expect(res.client.jar.get('tg_session')).toBeUndefined();
    const stranger = new ApiClient(portal.url);
    expect((await stranger.get('/auth/microsoft/choices')).status).toBe(404);
    const choices = await res.client.get('/auth/microsoft/choices');
    expect(choices.status).toBe(200);
    expect(choices.body.choices.map((c: { partnerId: string }) => c.partnerId).sort()).toEqual([contoso.partnerId, other.partnerId].sort());
    expect(choices.body.choices.find((c: { partnerId: string }) => c.partnerId === other.partnerId).partnerName).toBe('Second Partner');
    expect((await res.client.post('/auth/microsoft/choose', { partnerId: randomUUID() })).status).toBe(404);
    expect((await res.client.post('/auth/microsoft/choose', { partnerId: other.partnerId }, { origin: 'https://evil.example' })).status).toBe(403);
    const chosen = await res.client.post('/auth/microsoft/choose', { partnerId: other.partnerId });
    expect(chosen.status).toBe(200);
    expect(chosen.body.partner.id).toBe(other.partnerId);
    expect((await res.client.get('/api/session')).body).toMatchObject({ user: { email: 'alex@contoso.com', role: 'member', signInType: 'microsoft365' }, partner: { id: other.partnerId } });
    // Single use.
    expect((await res.client.post('/auth/microsoft/choose', { partnerId: contoso.partnerId })).status).toBe(404);
  });

  it('refuses only the partner whose local user has the person’s address; other partners still let them in', async () => {
    // A person and a group of their own in the tenant, so no earlier test lets them in anywhere.
    const upn = `collide-${engine}@contoso.com`;
    expect((await sandbox('POST', `/tenants/${CONTOSO.id}/users`, { userPrincipalName: upn, displayName: 'Collide', mail: upn, password: SAMPLE_PASSWORD })).status).toBeLessThan(300);
    const groupRes = await sandbox('POST', `/tenants/${CONTOSO.id}/groups`, { displayName: `Collide ${engine}`, mail: `collide-group-${engine}@contoso.com`, securityEnabled: true, members: [upn] });
    expect(groupRes.status).toBeLessThan(300);
    const groupId = ((await groupRes.json()) as { id: string }).id.toLowerCase();
    // Partner A added the group and also has a local user with the person's address.
    const a = await partnerWithProfile('Collision A', CONTOSO.admin);
    await addGroupEntry(a.partnerId, a.profileId, CONTOSO.id, groupId, [], 'member');
    await insertLocalUser(portal.services.db, a.partnerId, { email: upn, password: 'amber-meadow-falcon-93', role: 'member' });

    // Alone, A answers with a clear refusal (it used to be a 500 for everybody).
    const alone = await signIn(upn);
    expect(alone.location).toBe('/signin?error=EMAIL_IN_USE');
    expect((await auditOf(a.partnerId))[0]).toMatchObject({ outcome: 'failure', details: { method: 'microsoft365', code: 'EMAIL_IN_USE' } });

    // Partner B added the same group: B lets the person in, A still refuses for itself only.
    const b = await partnerWithProfile('Collision B', CONTOSO.admin);
    await addGroupEntry(b.partnerId, b.profileId, CONTOSO.id, groupId, [], 'member');
    const res = await signIn(upn);
    expect(res.location).toBe('/');
    expect((await res.client.get('/api/session')).body).toMatchObject({ user: { email: upn, signInType: 'microsoft365' }, partner: { id: b.partnerId } });
    expect((await auditOf(a.partnerId))[0]).toMatchObject({ outcome: 'failure', details: { code: 'EMAIL_IN_USE' } });
    const rowsInA = await portal.services.db.selectFrom('users').select(['sign_in_type', 'via_group_id']).where('partner_id', '=', a.partnerId).where('email_key', '=', upn).execute();
    expect(rowsInA).toEqual([{ sign_in_type: 'local', via_group_id: null }]);
  });

  it('signs in through the US Government cloud (email domain of a usgov profile) as a member of "Field Agents"', async () => {
    const gov = await partnerWithProfile('Gov Partner', FABRIKAM_GOV.admin, 'usgov');
    await addGroupEntry(gov.partnerId, gov.profileId, FABRIKAM_GOV.id, FIELD_AGENTS, ['grace@fabrikamgov.us'], 'member');
    const res = await signIn('grace@fabrikamgov.us');
    const clouds = (await (await sandbox('GET', '/clouds')).json()) as Record<string, { login: string }>;
    expect(res.authorizeUrl.toString().startsWith(clouds.usgov.login)).toBe(true);
    expect(res.location).toBe('/');
    expect((await res.client.get('/api/session')).body).toMatchObject({ user: { email: 'grace@fabrikamgov.us', role: 'member', signInType: 'microsoft365' }, partner: { id: gov.partnerId } });
    const global = await new ApiClient(portal.url).get('/auth/microsoft/sign-in?email=someone@contoso.com');
    expect(global.headers.get('location')!.startsWith(clouds.global.login)).toBe(true);
    const forced = await new ApiClient(portal.url).get('/auth/microsoft/sign-in?cloud=usgov');
    expect(forced.headers.get('location')!.startsWith(clouds.usgov.login)).toBe(true);
  });

  it('signs in a member of a DoD tenant\'s group, asking Graph at the DoD host (dod-graph.microsoft.us)', async () => {
    const dod = await partnerWithProfile('DoD Partner', 'admin@tailspindefense.mil', 'usgov');
    const profile = await portal.services.db.selectFrom('app_profiles').select('graph_host').where('id', '=', dod.profileId).executeTakeFirstOrThrow();
    expect(profile.graph_host).toBe('dod-graph.microsoft.us');
    await addGroupEntry(dod.partnerId, dod.profileId, TAILSPIN_DOD_ID, WATCH_OFFICERS, ['dana@tailspindefense.mil'], 'member');
    // The person's token is for the tenant's own Graph: asked at the cloud's default host, it is refused there.
    const res = await signIn('dana@tailspindefense.mil');
    expect(res.location).toBe('/');
    expect((await res.client.get('/api/session')).body).toMatchObject({ user: { email: 'dana@tailspindefense.mil', role: 'member', signInType: 'microsoft365' }, partner: { id: dod.partnerId } });
  });

  it('refuses only the partner where an unexpected failure struck, audits it there and logs the failure', async () => {
    // diego enters Contoso Partner through Sales (his member record exists after this).
    expect((await signIn('diego@contoso.com')).location).toBe('/');
    const faulty = await partnerWithProfile('Faulty Partner', CONTOSO.admin);
    await addGroupEntry(faulty.partnerId, faulty.profileId, CONTOSO.id, SALES, [], 'member');
    // A fault no refusal covers: the database refuses the member record Faulty Partner would create.
    const db = portal.services.db;
    const fault =
      engine === 'postgres'
        ? [
            sql`CREATE FUNCTION tg_sso_fault() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected sso fault'; END $$`,
            sql`CREATE TRIGGER tg_sso_fault BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION tg_sso_fault()`,
          ]
        : [sql`CREATE TRIGGER tg_sso_fault BEFORE INSERT ON users BEGIN SELECT RAISE(ABORT, 'injected sso fault'); END`];
    const cure = engine === 'postgres' ? [sql`DROP TRIGGER tg_sso_fault ON users`, sql`DROP FUNCTION tg_sso_fault()`] : [sql`DROP TRIGGER tg_sso_fault`];
    for (const statement of fault) await statement.execute(db);
    let res: Awaited<ReturnType<typeof signIn>>;
    try {
      res = await signIn('diego@contoso.com');
    } finally {
      for (const statement of cure) await statement.execute(db);
    }
    expect(res.location).toBe('/');
    expect((await res.client.get('/api/session')).body.partner.id).toBe(contoso.partnerId);
    expect((await auditOf(faulty.partnerId))[0]).toMatchObject({ outcome: 'failure', details: { method: 'microsoft365', code: 'MICROSOFT_ERROR' } });
    const logged = logLines.filter((l) => l.level >= 50 && l.msg.includes('unexpected failure'));
    expect(logged).toEqual([expect.objectContaining({ err: expect.objectContaining({ message: expect.stringContaining('injected sso fault') }) })]);
  });
});
