import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, signUpPartner } from '../support/api-client';
import { insertLocalUser } from '../support/db-fixtures';
import { startTestPortal, type TestPortal } from '../support/portal';

/**
 * Every API route of the OpenAPI document, checked for who may call it: a route nobody listed here as
 * public must answer 401 without a session and, unless it is for every signed-in user, 403 to a Member.
 * A new route that forgets its access rule fails this test.
 */
const PUBLIC = new Set(['GET /healthz', 'GET /readyz', 'GET /api/sandbox', 'POST /api/signup', 'POST /api/session', 'POST /api/activate', 'POST /api/activate/check']);
const ANY_SIGNED_IN_USER = new Set([
  'GET /api/session',
  'DELETE /api/session',
  'DELETE /api/sessions',
  'POST /api/session/password',
  // Alerts are for everyone of the partner (read state is per person); changing the settings is not.
  'GET /api/notifications',
  'POST /api/notifications/read',
  'GET /api/notification-settings',
]);
/**
 * Browser round trips with Microsoft: public by nature, protected by state and the binding cookie instead.
 * The consent-link pages are public too: a Global Administrator without a portal account opens them, and
 * only the unguessable link token (or, after Microsoft, the binding cookie) reaches a link.
 */
const MICROSOFT_ROUND_TRIP = /^\/(auth\/microsoft|consent)\//;

describe('access rules of every route', () => {
  let portal: TestPortal;
  let routes: { method: string; path: string }[];
  let member: ApiClient;
  beforeAll(async () => {
    portal = await startTestPortal('sqlite');
    const doc = (await (await fetch(`${portal.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => ({ method: method.toUpperCase(), path })));
    const owner = await signUpPartner(portal.url);
    const email = `member-${Date.now()}@acme-partner.test`;
    await insertLocalUser(portal.services.db, owner.partnerId, { email, password: 'silver-forest-river-9', role: 'member' });
    member = new ApiClient(portal.url);
    await member.post('/api/session', { email, password: 'silver-forest-river-9' });
  });
  afterAll(async () => {
    await portal?.close();
  });

  const concrete = (path: string) => path.replace(/\{[^}]+\}/g, randomUUID());

  it('documents every route of the API', () => {
    expect(routes.length).toBeGreaterThanOrEqual(20);
    expect(routes.map((r) => `${r.method} ${r.path}`)).toEqual(expect.arrayContaining(['POST /api/app-profiles/delete', 'POST /api/users', 'GET /api/audit']));
  });

  it('answers 401 without a session on every non-public API route', async () => {
    const checked: string[] = [];
    for (const { method, path } of routes) {
      const key = `${method} ${path}`;
      if (PUBLIC.has(key) || MICROSOFT_ROUND_TRIP.test(path)) continue;
      const res = await new ApiClient(portal.url).request(method, concrete(path), method === 'GET' || method === 'DELETE' ? undefined : {});
      expect(res.status, key).toBe(401);
      checked.push(key);
    }
    expect(checked.length).toBeGreaterThanOrEqual(14);
  });

  it('answers 403 to a Member on every Administrator route, before looking at the input', async () => {
    const checked: string[] = [];
    for (const { method, path } of routes) {
      const key = `${method} ${path}`;
      if (PUBLIC.has(key) || ANY_SIGNED_IN_USER.has(key) || MICROSOFT_ROUND_TRIP.test(path)) continue;
      const res = await member.request(method, concrete(path), method === 'GET' || method === 'DELETE' ? undefined : {});
      expect(res.status, key).toBe(403);
      checked.push(key);
    }
    expect(checked.length).toBeGreaterThanOrEqual(12);
  });
});
