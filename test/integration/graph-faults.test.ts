import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, signUpPartner } from '../support/api-client';
import { AdminBrowser, CONTOSO, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../support/portal';
import { SandboxUserAgent } from '../support/sandbox-user-agent';

/**
 * Graph misbehaving (429 with Retry-After, 500, 503, a dropped connection, a slow answer) during a health
 * check, a directory browse, a group member download, a directory sync round and a sign-in: each finishes
 * or fails with a clear, retryable answer (never a bare 500), and no profile is marked expired by it.
 */
type Fault = { name: string; body: Record<string, unknown>; path?: 'throttle' };
const FAULTS: Fault[] = [
  { name: '429 with Retry-After', path: 'throttle', body: { requests: 2, retryAfterSeconds: 1 } },
  { name: '500', body: { status: 500, requests: 2 } },
  { name: '503', body: { status: 503, requests: 2, retryAfterSeconds: 1 } },
  { name: 'reset', body: { reset: true, requests: 2 } },
  { name: 'delayMs', body: { delayMs: 1500, requests: 2 } },
];

describe('Graph faults', () => {
  let portal: TestPortal;
  let client: ApiClient;
  let profileId: string;
  let groupId: string;
  let partnerId: string;
  beforeAll(async () => {
    portal = await startTestPortal('sqlite');
    ({ client, partnerId } = await signUpPartner(portal.url));
    profileId = (await new AdminBrowser(client).createProfile('Contoso', { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' })).profileId!;
    const added = await client.post('/api/users', { signInType: 'microsoft365', emails: [CONTOSO.user, 'sales@contoso.com'], appProfileId: profileId, role: 'member' });
    groupId = (added.body.added as { id: string; kind: string }[]).find((u) => u.kind === 'group')!.id;
    await groupIdle();
  }, 60_000);
  afterAll(async () => {
    await portal?.close();
  });

  const fault = async (f: Fault) => {
    const res = await fetch(`${portal.sandbox!.baseUrl}/_sandbox/${f.path ?? 'faults'}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenantId: CONTOSO.id, ...f.body }) });
    expect(res.status, await res.text()).toBeLessThan(300);
  };
  const clearFaults = async () => {
    await fetch(`${portal.sandbox!.baseUrl}/_sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenantId: CONTOSO.id, status: 503, requests: 0 }) });
    await fetch(`${portal.sandbox!.baseUrl}/_sandbox/throttle`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenantId: CONTOSO.id, requests: 0 }) });
  };
  const profileStatus = async () => (await client.get(`/api/app-profiles/${profileId}`)).body.status as string;
  /** A clear answer: success, or an error in the error shape with a code (and no 500). */
  const expectClear = (res: { status: number; body: { error?: { code?: string } } | null }, what: string) => {
    expect(res.status, `${what}: ${JSON.stringify(res.body)}`).not.toBe(500);
    if (res.status >= 400) expect(res.body?.error?.code, what).toEqual(expect.any(String));
  };
  /** Joins the running member download (an accepted request registers it before answering). */
  async function groupIdle() {
    await portal.services.users.downloadGroupMembers(partnerId, groupId).catch(() => undefined);
    return portal.services.db.selectFrom('users').select(['sync_total', 'last_synced_at', 'download_failure']).where('id', '=', groupId).executeTakeFirstOrThrow();
  }

  it.each(FAULTS)('$name during a health check: a clear answer, the profile stays Active', async (f) => {
    await fault(f);
    const res = await client.post(`/api/app-profiles/${profileId}/check`, {});
    expectClear(res, 'check');
    await clearFaults();
    expect(await profileStatus()).toBe('active');
  });

  it.each(FAULTS)('$name while browsing the directory: a clear answer, retryable, then the page', async (f) => {
    await fault(f);
    const res = await client.get(`/api/app-profiles/${profileId}/directory?type=user`);
    expectClear(res, 'browse');
    if (res.status >= 500) expect([502, 503]).toContain(res.status);
    await clearFaults();
    expect((await client.get(`/api/app-profiles/${profileId}/directory?type=user`)).status).toBe(200);
    expect(await profileStatus()).toBe('active');
  });

  it.each(FAULTS)('$name during a group member download: it finishes or fails with a reason, and can be retried', async (f) => {
    await fault(f);
    const res = await client.post(`/api/users/${groupId}/download-members`, {});
    expectClear(res, 'download');
    const before = (await portal.services.db.selectFrom('users').select('last_synced_at').where('id', '=', groupId).executeTakeFirstOrThrow()).last_synced_at;
    const after = await groupIdle();
    // Finished (a newer sync time) or failed with a reason the page shows next to "Download again".
    expect(after.last_synced_at !== before || /stopped after/.test(after.download_failure ?? '')).toBe(true);
    await clearFaults();
    expect(await profileStatus()).toBe('active');
    expect((await client.post(`/api/users/${groupId}/download-members`, {})).status).toBe(200);
    expect((await groupIdle()).download_failure).toBeNull();
  });

  it.each(FAULTS)('$name during a directory sync round: the round ends, the next one completes', async (f) => {
    await fault(f);
    await portal.services.directorySync.syncAll().catch(() => undefined);
    await clearFaults();
    expect(await profileStatus()).toBe('active');
    const next = await portal.services.directorySync.syncAll();
    expect(next.length).toBeGreaterThan(0);
  });

  it.each(FAULTS)('$name during a sign-in with Microsoft 365: a clear outcome, then the person signs in', async (f) => {
    const signIn = async () => {
      const person = new ApiClient(portal.url);
      const start = await person.get(`/auth/microsoft/sign-in?email=${encodeURIComponent(CONTOSO.user)}`);
      const redirect = await new SandboxUserAgent().authorize(new URL(start.headers.get('location')!), { email: CONTOSO.user, password: SAMPLE_PASSWORD });
      const callback = await person.get(`${redirect.pathname}${redirect.search}`);
      return { status: callback.status, location: callback.headers.get('location'), session: (await person.get('/api/session')).status };
    };
    await fault(f);
    const during = await signIn();
    expect(during.status).toBe(303);
    expect(during.location === '/' ? during.session : 401).toBe(during.location === '/' ? 200 : 401);
    await clearFaults();
    expect(await signIn()).toMatchObject({ location: '/', session: 200 });
    expect(await profileStatus()).toBe('active');
  });

  it('kept within the tenant’s Graph budget through all of it, and under a burst of 200 browses: the sandbox refused nothing for budget', async () => {
    const burst = await Promise.all(Array.from({ length: 200 }, (_, i) => client.get(`/api/app-profiles/${profileId}/directory?type=${i % 2 ? 'user' : 'group'}&search=${'abcdefghij'[i % 10]}`)));
    expect(burst.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
    const usage = (await (await fetch(`${portal.sandbox!.baseUrl}/_sandbox/requests?tenantId=${CONTOSO.id}`)).json()) as { requests: number; resourceUnits: number; overBudget?: number };
    expect(usage.requests).toBeGreaterThan(200);
    expect(usage.overBudget ?? 0).toBe(0);
    // The check can fail: a sandbox budget below what the portal assumes (3,500) is overrun and counted.
    const setBudget = (units: number | null) => fetch(`${portal.sandbox!.baseUrl}/_sandbox/throttle`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenantId: CONTOSO.id, resourceUnitsPer10s: units }) });
    await setBudget(1);
    const overBudget = async () => ((await (await fetch(`${portal.sandbox!.baseUrl}/_sandbox/requests?tenantId=${CONTOSO.id}`)).json()) as { overBudget?: number }).overBudget ?? 0;
    const pending = Promise.all([1, 2, 3].map(() => client.get(`/api/app-profiles/${profileId}/directory?type=user`)));
    for (let i = 0; i < 100 && (await overBudget()) === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    await setBudget(null);
    await pending;
    expect(await overBudget()).toBeGreaterThan(0);
  });
});
