import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, signUpPartner } from '../support/api-client';
import { insertLocalUser } from '../support/db-fixtures';
import { testEngines } from '../support/engines';
import { startTestPortal, type TestPortal } from '../support/portal';

describe.each(testEngines())('portal foundation on %s', (engine) => {
  let portal: TestPortal;
  beforeAll(async () => {
    portal = await startTestPortal(engine);
  });
  afterAll(async () => {
    await portal?.close();
  });

  describe('sign-up, sign-in, sign-out', () => {
    it('signs up a partner whose owner is an Administrator, and answers who am I', async () => {
      const client = new ApiClient(portal.url);
      const res = await client.post('/api/signup', { organizationName: "O'Brien & Co. (EMEA)", email: 'Owner@Example.test', password: 'copper-meadow-sailing-7' });
      expect(res.status).toBe(201);
      expect(res.body.partner.name).toBe("O'Brien & Co. (EMEA)");
      expect(res.body.user).toMatchObject({ email: 'owner@example.test', role: 'administrator', isOwner: true });
      expect(res.body.csrfToken).toEqual(expect.any(String));
      const cookie = res.headers.getSetCookie().join(';');
      expect(cookie).toMatch(/tg_session=/);
      expect(cookie).toMatch(/HttpOnly/i);
      expect(cookie).toMatch(/SameSite=Lax/i);
      const me = await client.get('/api/session');
      expect(me.status).toBe(200);
      expect(me.body.user.email).toBe('owner@example.test');
    });

    it('refuses a duplicate sign-up email with 409, whatever its case', async () => {
      const { email } = await signUpPartner(portal.url);
      const res = await new ApiClient(portal.url).post('/api/signup', { organizationName: 'Other', email: email.toUpperCase(), password: 'copper-meadow-sailing-7' });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('EMAIL_TAKEN');
      expect(res.body.requestId).toEqual(expect.any(String));
    });

    it('signs in, signs out, and a signed-out cookie answers 401', async () => {
      const { email, password } = await signUpPartner(portal.url);
      const client = new ApiClient(portal.url);
      const signIn = await client.post('/api/session', { email, password });
      expect(signIn.status).toBe(200);
      const oldCookie = client.cookie;
      expect((await client.delete('/api/session')).status).toBe(204);
      const replay = new ApiClient(portal.url);
      replay.cookie = oldCookie;
      expect((await replay.get('/api/session')).status).toBe(401);
    });

    it('answers 401 to a forged session cookie and to none', async () => {
      const forged = new ApiClient(portal.url);
      forged.cookie = 'tg_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
      expect((await forged.get('/api/session')).status).toBe(401);
      const none = await new ApiClient(portal.url).get('/api/session');
      expect(none.status).toBe(401);
      expect(none.body.error.code).toBe('UNAUTHENTICATED');
    });

    it('answers 401 to an expired session', async () => {
      const { client } = await signUpPartner(portal.url);
      await portal.services.db.updateTable('sessions').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).execute();
      expect((await client.get('/api/session')).status).toBe(401);
    });

    it('refuses a wrong password and rate limits repeated failures per account', async () => {
      const { email } = await signUpPartner(portal.url);
      const client = new ApiClient(portal.url);
      const first = await client.post('/api/session', { email, password: 'not-the-password-1' });
      expect(first.status).toBe(401);
      expect(first.body.error.code).toBe('INVALID_CREDENTIALS');
      for (let i = 0; i < 4; i++) await client.post('/api/session', { email, password: 'not-the-password-1' });
      const limited = await client.post('/api/session', { email, password: 'violet-harbor-lantern-42' });
      expect(limited.status).toBe(429);
      expect(limited.body.error.code).toBe('TOO_MANY_SIGN_IN_ATTEMPTS');
      expect(limited.body.error.message).toMatch(/Too many failed sign-in attempts/);
      expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    });

    it('rate limits failed sign-ins per client address, across accounts', async () => {
      // The address limit (30 failures in 15 minutes) holds even when every attempt names another account.
      const client = new ApiClient(portal.url);
      await portal.services.db.deleteFrom('sign_in_attempts').execute();
      for (let i = 0; i < 30; i++) {
        const res = await client.request('POST', '/api/session', { email: `spray${i}@example.test`, password: 'guess-guess-guess-1' });
        expect(res.status).toBe(401);
      }
      const limited = await client.request('POST', '/api/session', { email: 'spray-last@example.test', password: 'guess-guess-guess-1' });
      expect(limited.status).toBe(429);
      expect(limited.body.error.code).toBe('TOO_MANY_SIGN_IN_ATTEMPTS');
      await portal.services.db.deleteFrom('sign_in_attempts').execute();
    }, 120_000); // 31 scrypt checks at N=2^17

    it('refuses short and trivially weak passwords with the field named', async () => {
      const client = new ApiClient(portal.url);
      const short = await client.post('/api/signup', { organizationName: 'Weak', email: 'weak1@example.test', password: 'abc' });
      expect(short.status).toBe(400);
      expect(short.body.error).toMatchObject({ code: 'PASSWORD_TOO_SHORT', details: { field: 'password' } });
      for (const password of ['password123', '1234567890', 'aaaaaaaaaaaa', 'weak2weak2weak2']) {
        const weak = await client.post('/api/signup', { organizationName: 'Weak', email: 'weak2@example.test', password });
        expect(weak.status, password).toBe(400);
        expect(weak.body.error.code, password).toBe('PASSWORD_TOO_WEAK');
      }
    });

    it('stores passwords only as scrypt hashes', async () => {
      const { email, password } = await signUpPartner(portal.url);
      const row = await portal.services.db.selectFrom('users').select('password_hash').where('email_key', '=', email).executeTakeFirstOrThrow();
      expect(row.password_hash).toMatch(/^scrypt\$/);
      expect(row.password_hash).not.toContain(password);
    });
  });

  describe('CSRF', () => {
    it('refuses a changing request without the token, or with another session\'s token', async () => {
      const a = await signUpPartner(portal.url);
      const b = await signUpPartner(portal.url);
      const missing = await a.client.request('DELETE', '/api/session', undefined, { 'x-csrf-token': '' });
      expect(missing.status).toBe(403);
      expect(missing.body.error.code).toBe('CSRF_TOKEN_INVALID');
      const other = await a.client.request('DELETE', '/api/session', undefined, { 'x-csrf-token': b.client.csrfToken! });
      expect(other.status).toBe(403);
      expect((await a.client.get('/api/session')).status).toBe(200);
    });

    it('refuses sign-in from another site\'s Origin', async () => {
      const res = await new ApiClient(portal.url).post('/api/session', { email: 'x@example.test', password: 'whatever-long-1' }, { origin: 'https://evil.example' });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('ORIGIN_NOT_ALLOWED');
    });
  });

  describe('roles', () => {
    it('lets Administrators read the audit log and answers 403 to a Member', async () => {
      const owner = await signUpPartner(portal.url);
      const memberEmail = `member${Date.now()}@acme-partner.test`;
      await insertLocalUser(portal.services.db, owner.partnerId, { email: memberEmail, password: 'silver-forest-river-9', role: 'member' });
      const member = new ApiClient(portal.url);
      expect((await member.post('/api/session', { email: memberEmail, password: 'silver-forest-river-9' })).status).toBe(200);
      const denied = await member.get('/api/audit');
      expect(denied.status).toBe(403);
      expect(denied.body.error.code).toBe('FORBIDDEN');
      expect((await owner.client.get('/api/audit')).status).toBe(200);
    });
  });

  describe('audit log', () => {
    it('records sign-up, sign-in success and failure, and sign-out with actor, outcome and address', async () => {
      const { client, email, password } = await signUpPartner(portal.url);
      await new ApiClient(portal.url).post('/api/session', { email, password: 'wrong-password-xyz' });
      const second = new ApiClient(portal.url);
      await second.post('/api/session', { email, password });
      await second.delete('/api/session');
      const res = await client.get('/api/audit?limit=10');
      expect(res.status).toBe(200);
      const actions = res.body.items.map((e: { action: string; outcome: string }) => `${e.action}:${e.outcome}`);
      expect(actions).toEqual(['session.signout:success', 'session.signin:success', 'session.signin:failure', 'partner.signup:success']);
      for (const e of res.body.items) {
        expect(e.actorEmail).toBe(email);
        expect(e.clientAddress).toMatch(/127\.0\.0\.1/);
        expect(Date.parse(e.at)).not.toBeNaN();
      }
      const failures = await client.get('/api/audit?outcome=failure');
      expect(failures.body.items.map((e: { action: string }) => e.action)).toEqual(['session.signin']);
    });

    it('pages with a cursor, each event exactly once', async () => {
      const { client, email, password } = await signUpPartner(portal.url);
      for (let i = 0; i < 5; i++) await new ApiClient(portal.url).post('/api/session', { email, password });
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res: { body: { items: { id: string }[]; nextCursor: string | null } } = await client.get(`/api/audit?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...res.body.items.map((e) => e.id));
        cursor = res.body.nextCursor;
      } while (cursor);
      expect(seen).toHaveLength(6);
      expect(new Set(seen).size).toBe(6);
    });
  });

  describe('isolation between partners', () => {
    it('shows each partner only its own audit log', async () => {
      const a = await signUpPartner(portal.url, 'Partner A');
      const b = await signUpPartner(portal.url, 'Partner B');
      const aLog = await a.client.get('/api/audit');
      const bLog = await b.client.get('/api/audit');
      expect(aLog.body.items.every((e: { actorEmail: string }) => e.actorEmail === a.email)).toBe(true);
      expect(bLog.body.items.every((e: { actorEmail: string }) => e.actorEmail === b.email)).toBe(true);
    });
  });

  describe('bad input', () => {
    const countPartners = async () => Number((await portal.services.db.selectFrom('partners').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

    const cases: [string, unknown, string, string?][] = [
      ['malformed JSON', '{"organizationName": "x", ', 'INVALID_JSON'],
      ['wrong types', { organizationName: 42, email: 'a@b.test', password: 'copper-meadow-sailing-7' }, 'VALIDATION_FAILED', 'organizationName'],
      ['missing fields', { email: 'a@b.test' }, 'VALIDATION_FAILED', 'organizationName'],
      ['an overlong name', { organizationName: 'x'.repeat(101), email: 'a@b.test', password: 'copper-meadow-sailing-7' }, 'VALIDATION_FAILED', 'organizationName'],
      ['an overlong email', { organizationName: 'X', email: `${'a'.repeat(250)}@b.test`, password: 'copper-meadow-sailing-7' }, 'VALIDATION_FAILED', 'email'],
      ['markup in a name', { organizationName: 'Acme <script>', email: 'a@b.test', password: 'copper-meadow-sailing-7' }, 'VALIDATION_FAILED', 'organizationName'],
      ['control characters in a name', { organizationName: 'Acme\u0000\u001b[31m', email: 'a@b.test', password: 'copper-meadow-sailing-7' }, 'VALIDATION_FAILED', 'organizationName'],
      ['a SQL-looking email', { organizationName: 'X', email: "a' OR '1'='1", password: 'copper-meadow-sailing-7' }, 'VALIDATION_FAILED', 'email'],
      ['unknown fields', { organizationName: 'X', email: 'a@b.test', password: 'copper-meadow-sailing-7', role: 'god' }, 'VALIDATION_FAILED'],
    ];

    it.each(cases)('answers 400 to %s and stores nothing', async (_label, body, code, field) => {
      const before = await countPartners();
      const res = await new ApiClient(portal.url).request('POST', '/api/signup', body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe(code);
      if (field) expect(res.body.error.details.field).toBe(field);
      expect(res.body.requestId).toEqual(expect.any(String));
      expect(await countPartners()).toBe(before);
    });

    it('answers 400 to a 1 MB body and stores nothing', async () => {
      const before = await countPartners();
      const res = await new ApiClient(portal.url).post('/api/signup', { organizationName: 'x'.repeat(1024 * 1024), email: 'big@b.test', password: 'copper-meadow-sailing-7' });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('BODY_TOO_LARGE');
      expect(await countPartners()).toBe(before);
    });

    it('answers 400 to a wrong content type', async () => {
      const res = await new ApiClient(portal.url).request('POST', '/api/session', 'email=a', { 'content-type': 'application/x-www-form-urlencoded' });
      expect(res.status).toBe(400);
    });

    // Found by the PostgreSQL fuzz (FUZZ_SEED=2101606286): PostgreSQL cannot store U+0000 in text, so an
    // id or a search holding one failed the statement and answered 500.
    it('answers 400 naming the field to the NUL character in an id, a path or a search, and changes nothing', async () => {
      const { client } = await signUpPartner(portal.url);
      const users = await client.get('/api/users');
      const owner = users.body.items[0].id;
      const removal = await client.post('/api/users/delete', { ids: [owner, '\u0000'] });
      expect(removal.status).toBe(400);
      expect(removal.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'ids.1' } });
      const search = await client.get(`/api/users?search=${encodeURIComponent('a\u0000b')}`);
      expect(search.status).toBe(400);
      expect(search.body.error.details.field).toBe('search');
      const path = await client.request('PATCH', `/api/users/${encodeURIComponent('x\u0000')}`, { role: 'member' });
      expect(path.status).toBe(400);
      expect(path.body.error.details.field).toBe('id');
      expect((await client.get('/api/users')).body.items).toHaveLength(users.body.items.length);
    });

    // Names take the punctuation and symbols people use (issue 13, item 7); a SQL-looking one is stored as plain text.
    it('accepts everyday punctuation and emoji in a name, and stores a SQL-looking name as it was typed', async () => {
      for (const name of ['Acme 🚀', 'Müller – Søn & Co. (Nord)!', "x'); DROP TABLE partners; --"]) {
        const email = `n${Date.now()}${Math.random().toString(36).slice(2, 6)}@example.test`;
        const res = await new ApiClient(portal.url).post('/api/signup', { organizationName: name, email, password: 'copper-meadow-sailing-7' });
        expect(res.status).toBe(201);
        const stored = await portal.services.db.selectFrom('partners').select('name').where('name', '=', name).execute();
        expect(stored).toHaveLength(1);
      }
    });

    it('accepts letters of any script in names', async () => {
      const res = await new ApiClient(portal.url).post('/api/signup', { organizationName: 'Müller & Søn Ünïcode 東京', email: `intl${Date.now()}@example.test`, password: 'copper-meadow-sailing-7' });
      expect(res.status).toBe(201);
    });
  });

  describe('API hygiene', () => {
    it('serves health, readiness, the OpenAPI document and its docs page', async () => {
      expect((await fetch(`${portal.url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${portal.url}/readyz`);
      expect(await ready.json()).toEqual({ status: 'ready' });
      const doc = await (await fetch(`${portal.url}/api/openapi.json`)).json();
      expect(doc.openapi).toMatch(/^3\./);
      expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/signup', '/api/session', '/api/audit']));
      expect(doc.paths['/api/signup'].post.requestBody).toBeDefined();
      expect((await fetch(`${portal.url}/api/docs`, { redirect: 'follow' })).status).toBe(200);
    });

    it('answers unknown API routes with the error shape and a request id header', async () => {
      const res = await fetch(`${portal.url}/api/nope`);
      expect(res.status).toBe(404);
      const body = await res.json();
      expect(body.error.code).toBe('NOT_FOUND');
      expect(res.headers.get('x-request-id')).toBe(body.requestId);
    });

    it('tells where the sandbox cloud is', async () => {
      const body = await (await fetch(`${portal.url}/api/sandbox`)).json();
      expect(body.enabled).toBe(true);
      expect(body.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    });
  });
});
