import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, signUpPartner } from '../support/api-client';
import { testEngines } from '../support/engines';
import { startTestPortal, type TestPortal } from '../support/portal';

/**
 * Issue 8, item 5: what an anonymous caller can make the portal spend is bounded. The portal sits behind
 * one trusted proxy, so each test chooses its client addresses with X-Forwarded-For.
 */
const HOLD_MS = 300;

describe.each(testEngines())('unauthenticated cost on %s', (engine) => {
  let portal: TestPortal;
  beforeAll(async () => {
    portal = await startTestPortal(engine, {
      TRUST_PROXY: 'true',
      TENANTGATE_RATE_LIMIT_PASSWORD_PER_MINUTE: '10',
      TENANTGATE_RATE_LIMIT_ANONYMOUS_PER_MINUTE: '60',
      TENANTGATE_PASSWORD_HASH_CONCURRENCY: '1',
      TENANTGATE_PASSWORD_HASH_QUEUE: '2',
      TENANTGATE_RATE_LIMIT_HOLD_MS: String(HOLD_MS),
    });
  });
  afterAll(async () => {
    await portal?.close();
  });

  const from = (address: string) => ({ 'x-forwarded-for': address });
  const count = async (table: 'oauth_flows' | 'partners' | 'audit_events') =>
    Number((await portal.services.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  it('leaves a bounded number of pending sign-ins after 1,000 sign-in starts from one address', async () => {
    const before = await count('oauth_flows');
    const statuses = new Map<number, number>();
    for (let batch = 0; batch < 20; batch++) {
      const answers = await Promise.all(Array.from({ length: 50 }, () => fetch(`${portal.url}/auth/microsoft/sign-in`, { redirect: 'manual', headers: from('198.51.100.1') })));
      for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
    }
    const rows = (await count('oauth_flows')) - before;
    console.log(`1,000 sign-in starts from one address: ${rows} oauth_flows rows; answers ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(rows).toBeLessThanOrEqual(60);
    expect(statuses.get(303)).toBe(rows);
    expect(statuses.get(429)).toBe(1000 - rows);
  });

  it('counts an IPv6 client by its /64, so a fresh address per request does not escape the limit', async () => {
    const client = new ApiClient(portal.url);
    const status = async (address: string) => (await client.request('GET', '/api/sandbox', undefined, from(address))).status;
    for (let i = 0; i < 60; i++) expect(await status(`2001:db8:7:7::${(i + 1).toString(16)}`), `request ${i}`).not.toBe(429);
    expect(await status('2001:db8:7:7:ffff:1:2:3')).toBe(429);
    // The next /64 is another client.
    expect(await status('2001:db8:7:8::1')).not.toBe(429);
  });

  it('limits every unauthenticated route per address, says when to retry, and audits the refusal once', async () => {
    const routes: [string, string, unknown, number][] = [
      ['POST', '/api/signup', { organizationName: 'Flood', email: 'flood@example.test', password: 'x' }, 10],
      ['POST', '/api/session', { email: 'flood@example.test', password: 'x' }, 10],
      ['POST', '/api/activate', { token: 'x', password: 'x' }, 10],
      ['GET', '/auth/microsoft/sign-in', undefined, 60],
      ['GET', '/auth/microsoft/callback?state=x&code=y', undefined, 60],
      ['GET', '/auth/microsoft/signed-out', undefined, 60],
      ['GET', '/auth/microsoft/choices', undefined, 60],
      ['POST', '/auth/microsoft/choose', { partnerId: 'x' }, 60],
      ['GET', '/api/sandbox', undefined, 60],
    ];
    for (const [index, [method, path, body, limit]] of routes.entries()) {
      const address = `198.51.100.${100 + index}`;
      const client = new ApiClient(portal.url);
      // (The sign-in limiter may answer its own 429 to repeated wrong passwords; this is the address limit.)
      const limited = async (address: string) => (await client.request(method, path, body, from(address))).body?.error?.code === 'TOO_MANY_REQUESTS';
      for (let i = 0; i < limit; i++) expect(await limited(address), `${method} ${path} #${i}`).toBe(false);
      const partnersBefore = await count('partners');
      const refused = await client.request(method, path, body, from(address));
      expect(refused.status, `${method} ${path}`).toBe(429);
      expect(refused.body.error.code).toBe('TOO_MANY_REQUESTS');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      // The same 429 as every other limit: when to retry, in the body too.
      expect(refused.body.error.details).toEqual({ retryAfterSeconds: Number(refused.headers.get('retry-after')) });
      expect(refused.body.error.message).toMatch(/^Too many requests from this address\. Try again in /);
      expect((await client.request(method, path, body, from(address))).status).toBe(429);
      expect(await count('partners')).toBe(partnersBefore);
      // Another address is not affected.
      expect(await limited(`203.0.113.${index}`)).toBe(false);
    }
    // The refusal is audited without holding up the 429, so the last entry may land a moment later.
    const tested = new Set(routes.map((_, i) => `198.51.100.${100 + i}`));
    const auditedAddresses = async () =>
      (await portal.services.db.selectFrom('audit_events').select('client_address').where('action', '=', 'request.rate_limited').execute())
        .map((e) => e.client_address)
        .filter((a) => tested.has(a!))
        .sort();
    await expect.poll(auditedAddresses, { timeout: 5000 }).toEqual([...tested].sort());
    const audit = await portal.services.db.selectFrom('audit_events').selectAll().where('action', '=', 'request.rate_limited').execute();
    expect(audit.find((e) => e.client_address === '198.51.100.100')).toMatchObject({ outcome: 'failure', target_name: 'POST /api/signup' });
  });

  it('audits made-up OAuth states from an address without a session once per window, and each one a session delivers', async () => {
    const stateAudit = async (address: string) =>
      (await portal.services.db.selectFrom('audit_events').select(['partner_id', 'outcome', 'details']).where('action', '=', 'microsoft.callback').where('client_address', '=', address).execute()).map((e) => ({
        ...e,
        details: JSON.parse(e.details ?? '{}'),
      }));
    const anonymous = new ApiClient(portal.url);
    for (let i = 0; i < 30; i++) {
      const res = await anonymous.request('GET', `/auth/microsoft/callback?state=made-up-${i}&code=x`, undefined, from('198.51.100.200'));
      expect([res.status, res.headers.get('location')]).toEqual([303, '/signin?error=STATE_INVALID']);
    }
    expect(await stateAudit('198.51.100.200')).toEqual([{ partner_id: null, outcome: 'failure', details: expect.objectContaining({ code: 'STATE_INVALID' }) }]);
    // Another address leaves its own single trace.
    for (let i = 0; i < 3; i++) await anonymous.request('GET', `/auth/microsoft/callback?state=other-${i}`, undefined, from('198.51.100.201'));
    expect(await stateAudit('198.51.100.201')).toHaveLength(1);
    // A portal session that delivers a foreign state is a partner's concern: every one is in its audit log.
    const partner = await signUpPartner(portal.url);
    for (let i = 0; i < 3; i++) await partner.client.request('GET', `/auth/microsoft/callback?state=foreign-${i}&code=x`, undefined, from('198.51.100.202'));
    expect((await stateAudit('198.51.100.202')).map((e) => e.partner_id)).toEqual([partner.partnerId, partner.partnerId, partner.partnerId]);
  });

  it('refuses sign-ups past the password-hash queue with 503 and Retry-After, and keeps answering signed-in users', async () => {
    const owner = await signUpPartner(portal.url);
    const partnersBefore = await count('partners');
    const flood = Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        new ApiClient(portal.url).post('/api/signup', { organizationName: `Flood ${i}`, email: `flood${i}-${Date.now()}@example.test`, password: 'violet-harbor-lantern-42' }, from(`192.0.2.${i + 1}`)),
      ),
    );
    const during = await owner.client.get('/api/session');
    const answers = await flood;
    expect(during.status).toBe(200);
    const created = answers.filter((a) => a.status === 201);
    const busy = answers.filter((a) => a.status === 503);
    expect(created.length + busy.length).toBe(30);
    expect(created.length).toBeGreaterThanOrEqual(3);
    expect(busy.length).toBeGreaterThan(0);
    expect(busy[0].body.error.code).toBe('SERVER_BUSY');
    expect(busy[0].headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await count('partners')).toBe(partnersBefore + created.length);
  });

  it('holds refusals to a flooding address, all at once rather than one after another, while signed-in users are answered', async () => {
    const owner = await signUpPartner(portal.url);
    const address = '198.51.100.77';
    const anonymous = new ApiClient(portal.url);
    for (let i = 0; i < 60; i++) await anonymous.request('GET', '/api/sandbox', undefined, from(address));
    const timed = async () => {
      const started = performance.now();
      const res = await new ApiClient(portal.url).request('GET', '/api/sandbox', undefined, from(address));
      return { status: res.status, ms: performance.now() - started };
    };
    const started = performance.now();
    const flood = Promise.all(Array.from({ length: 50 }, timed));
    const during = performance.now();
    const session = await owner.client.get('/api/session');
    const sessionMs = performance.now() - during;
    const refusals = await flood;
    const wall = performance.now() - started;
    expect(session.status).toBe(200);
    expect(refusals.every((r) => r.status === 429)).toBe(true);
    // Each refusal waited the hold (a client that waits for answers is paced by it) ...
    expect(Math.min(...refusals.map((r) => r.ms))).toBeGreaterThanOrEqual(HOLD_MS - 5);
    // ... side by side: 50 holds took about one, and a signed-in request did not queue behind them.
    expect(wall).toBeLessThan(HOLD_MS * 4);
    expect(sessionMs).toBeLessThan(HOLD_MS);
  });
});
