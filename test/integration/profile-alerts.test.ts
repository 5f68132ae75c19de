import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProfileHealth } from '../../src/server/app-profiles/health';
import { signUpPartner } from '../support/api-client';
import { testEngines } from '../support/engines';
import { AdminBrowser, NORTHWIND, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../support/portal';

const DAY = 24 * 3600_000;

/** What `read` answers once `done` holds, or its last answer after 5 s (a check hands its alerts on without waiting for them to be stored). */
async function settled<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  let value = await read();
  for (let i = 0; i < 100 && !done(value); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await read();
  }
  return value;
}
const brief = (alerts: { type: string; data: Record<string, unknown> }[]) => alerts.map((a) => [a.type, a.data.daysLeft ?? null]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));

/** Issue 10, section 2, "a banner on the affected page": a profile's open (unresolved) alerts, from the notifications. */
describe.each(testEngines())('open alerts of an app profile on %s', (engine) => {
  let portal: TestPortal;
  const sandbox = (path: string, body: unknown = {}) =>
    fetch(`${portal.sandbox!.baseUrl}/_sandbox${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    portal = await startTestPortal(engine);
  });
  afterAll(async () => {
    await portal?.close();
  });

  async function partnerWithProfile(name: string) {
    const partner = await signUpPartner(portal.url, name);
    const browser = new AdminBrowser(partner.client);
    const outcome = await browser.createProfile(`${name} profile`, { email: NORTHWIND.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
    expect(outcome.result, outcome.location).toBe('created');
    const open = async () => {
      const res = await partner.client.get(`/api/notifications?appProfileId=${outcome.profileId}&open=true`);
      if (res.status !== 200) throw new Error(`open alerts answered ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body.items as { type: string; title: string; message: string; fix: string | null; appProfileId: string; data: Record<string, unknown> }[];
    };
    return { ...partner, browser, profileId: outcome.profileId!, open };
  }

  it('shows the lapse warning still due (the 3-day one replaces the 14-day one) beside checks failing, and neither once a refresh succeeds', async () => {
    const p = await partnerWithProfile('Banner Lapse');
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
    const tokenEndpointDown = (requests: number) => sandbox('/faults', { tenantId: NORTHWIND.id, status: 503, requests, target: 'token' });
    expect(await p.open()).toEqual([]);

    await tokenEndpointDown(1000);
    clock = new Date(start + 76 * DAY + 3600_000);
    await health.sweep({ olderThanMs: 0 });
    // 76 days without a refresh: the checks have failed for more than a day too; both are open.
    expect(brief(await settled(p.open, (a) => a.length > 1))).toEqual([['checks_failing', null], ['refresh_lapse_warning', 14]]);
    const warning = (await p.open()).find((a) => a.type === 'refresh_lapse_warning')!;
    expect(warning.fix).toMatch(/Check now/);
    expect(warning.appProfileId).toBe(p.profileId);
    clock = new Date(start + 87 * DAY + 3600_000);
    await health.sweep({ olderThanMs: 0 });
    expect(brief(await settled(p.open, (a) => a.some((x) => x.data.daysLeft === 3)))).toEqual([['checks_failing', null], ['refresh_lapse_warning', 3]]);

    // Microsoft answers again: the window starts over, nothing is open (the alerts stay in the list).
    await tokenEndpointDown(0);
    await health.sweep({ olderThanMs: 0 });
    expect(await settled(p.open, (a) => a.length === 0)).toEqual([]);
    expect((await p.client.get('/api/notifications')).body.items.filter((n: { type: string }) => n.type === 'refresh_lapse_warning')).toHaveLength(2);
  });

  it('shows permission drift with its cause and fix until the app is re-authorized; never another partner’s; open needs a profile', async () => {
    const p = await partnerWithProfile('Banner Drift');
    const clientId = portal.services.microsoft.apps.global!.clientId;
    expect((await sandbox(`/tenants/${NORTHWIND.id}/remove-permissions`, { clientId, scopes: ['Domain.Read.All'] })).status).toBe(204);
    await portal.services.appProfiles.health.sweep({ olderThanMs: 0 });
    const [drift, ...rest] = await settled(p.open, (a) => a.length > 0);
    expect(rest).toEqual([]);
    expect(drift).toMatchObject({ type: 'permission_drift', title: 'Permissions missing: Banner Drift profile', appProfileId: p.profileId });
    expect(drift.message).toContain('Domain.Read.All');
    expect(drift.fix).toBeTruthy();

    const other = await signUpPartner(portal.url, 'Banner Other');
    const foreign = await other.client.get(`/api/notifications?appProfileId=${p.profileId}&open=true`);
    expect(foreign.status).toBe(200);
    expect(foreign.body.items).toEqual([]);
    expect((await p.client.get('/api/notifications?open=true')).status).toBe(400);

    const back = await p.browser.reauthorize(p.profileId, 'current', { email: NORTHWIND.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
    expect(back.result).toBe('reauthorized');
    expect(await settled(p.open, (a) => a.length === 0)).toEqual([]);
  });
});
