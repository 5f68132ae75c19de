import { randomBytes, scryptSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, signUpPartner } from '../support/api-client';
import { testEngines } from '../support/engines';
import { startTestPortal, type TestPortal } from '../support/portal';

/**
 * Issue 8, item 4. The portal sits behind one trusted proxy (TRUST_PROXY=true): the proxy appends the
 * address it saw to X-Forwarded-For, so each test picks its client address with that header.
 */
describe.each(testEngines())('sign-in limiter on %s', (engine) => {
  let portal: TestPortal;
  beforeAll(async () => {
    // A hash queue long enough for every guess of a burst to reach the limiter (past a full queue a sign-in is
    // refused as busy before it is counted: sign-in-busy.test.ts).
    portal = await startTestPortal(engine, { TRUST_PROXY: 'true', TENANTGATE_PASSWORD_HASH_QUEUE: '100' });
  });
  afterAll(async () => {
    await portal?.close();
  });

  const from = (address: string) => ({ 'x-forwarded-for': address });
  const signIn = (email: string, password: string, address: string) => new ApiClient(portal.url).post('/api/session', { email, password }, from(address));
  const signInAudit = (email: string) =>
    portal.services.db.selectFrom('audit_events').selectAll().where('action', '=', 'session.signin').where('target_name', '=', email).orderBy('at').execute();

  it('lets 50 parallel wrong guesses check at most 5 passwords, and audits every refusal', async () => {
    const { email } = await signUpPartner(portal.url);
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => signIn(email, `wrong-guess-number-${i}`, '198.51.100.7')));
    const checked = answers.filter((a) => a.status === 401);
    const refused = answers.filter((a) => a.status === 429);
    // Each guess is stored before it is counted: a burst may be refused sooner (on PostgreSQL all at once), never later.
    expect(checked.length).toBeLessThanOrEqual(5);
    expect(checked.length + refused.length).toBe(50);
    expect(refused[0].body.error.code).toBe('TOO_MANY_SIGN_IN_ATTEMPTS');
    expect(Number(refused[0].headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const audit = await signInAudit(email);
    expect(audit.filter((e) => JSON.parse(e.details!).reason === 'wrong_password')).toHaveLength(checked.length);
    expect(audit.filter((e) => JSON.parse(e.details!).reason === 'rate_limited')).toHaveLength(refused.length);
  });

  it('counts parallel guesses from one IPv6 /64 as one address, each from a fresh address in it', async () => {
    const { email } = await signUpPartner(portal.url);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => signIn(email, `wrong-guess-number-${i}`, `2001:db8:5:5:${i + 1}::1`)));
    const checked = answers.filter((a) => a.status === 401);
    // Counted as one address: at most its 5 free guesses are checked (a burst counted all at once may be refused
    // whole on PostgreSQL); counted per address, all 20 would be.
    expect(checked.length).toBeLessThanOrEqual(5);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(20 - checked.length);
  });

  it('lets the owner sign in from their own address while the account is under attack from elsewhere', async () => {
    const { email, password } = await signUpPartner(portal.url);
    for (const attacker of ['198.51.100.20', '198.51.100.21']) {
      for (let i = 0; i < 5; i++) expect((await signIn(email, `wrong-guess-number-${i}`, attacker)).status).toBe(401);
      // Even the right password waits at the attacker's address ...
      expect((await signIn(email, password, attacker)).status).toBe(429);
    }
    // ... but not at the owner's.
    const owner = await signIn(email, password, '203.0.113.20');
    expect(owner.status).toBe(200);
    expect(owner.body.user.email).toBe(email);
  });

  it('makes each further attempt of one account from one address wait longer', async () => {
    const { email, password } = await signUpPartner(portal.url);
    const address = '198.51.100.30';
    for (let i = 0; i < 5; i++) expect((await signIn(email, `wrong-guess-number-${i}`, address)).status).toBe(401);
    const waits: number[] = [];
    for (let round = 0; round < 3; round++) {
      const refused = await signIn(email, 'wrong-guess-again-1', address);
      expect(refused.status).toBe(429);
      waits.push(Number(refused.headers.get('retry-after')));
      // Let the wait pass (move the remembered attempts into the past), then fail once more.
      await portal.services.db
        .updateTable('sign_in_attempts')
        .set({ at: new Date(Date.now() - 20 * 60_000).toISOString() })
        .where('key', '=', `pair:${email}|${address}`)
        .execute();
      expect((await signIn(email, 'wrong-guess-again-2', address)).status).toBe(401);
    }
    expect(waits[1]).toBeGreaterThan(waits[0]);
    expect(waits[2]).toBeGreaterThan(waits[1]);
    // The right password after the wait starts afresh.
    await portal.services.db.updateTable('sign_in_attempts').set({ at: new Date(Date.now() - 20 * 60_000).toISOString() }).where('key', '=', `pair:${email}|${address}`).execute();
    expect((await signIn(email, password, address)).status).toBe(200);
    expect((await signIn(email, 'wrong-guess-number-9', address)).status).toBe(401);
  });

  it('replaces a password hash made with older scrypt parameters at the next successful sign-in (item 11)', async () => {
    const { email, password, userId } = await signUpPartner(portal.url);
    const salt = randomBytes(16);
    const key = scryptSync(password, salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
    const old = `scrypt$32768$8$1$${salt.toString('base64url')}$${key.toString('base64url')}`;
    await portal.services.db.updateTable('users').set({ password_hash: old }).where('id', '=', userId).execute();
    expect((await signIn(email, password, '198.51.100.50')).status).toBe(200);
    const row = await portal.services.db.selectFrom('users').select('password_hash').where('id', '=', userId).executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^scrypt\$131072\$8\$1\$/);
    expect((await signIn(email, password, '198.51.100.50')).status).toBe(200);
  });

  it('records the address the proxy saw, not one the client forged in X-Forwarded-For', async () => {
    const { email, password } = await signUpPartner(portal.url);
    // The client sent "X-Forwarded-For: 203.0.113.66"; the proxy appended the address it really saw.
    const client = new ApiClient(portal.url);
    const res = await client.post('/api/session', { email, password }, { 'x-forwarded-for': '203.0.113.66, 198.51.100.44' });
    expect(res.status).toBe(200);
    const [entry] = (await signInAudit(email)).filter((e) => e.outcome === 'success');
    expect(entry.client_address).toBe('198.51.100.44');
    const session = await portal.services.db.selectFrom('sessions').select('client_address').where('user_id', '=', res.body.user.id).orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    expect(session.client_address).toBe('198.51.100.44');
  });
});
