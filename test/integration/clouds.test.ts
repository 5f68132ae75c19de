import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpPartner } from '../support/api-client';
import { testEngines } from '../support/engines';
import { AdminBrowser, CONTOSO, FABRIKAM_GOV, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../support/portal';

const WOODGROVE_GCC = { id: '9a3c5e71-2b4d-4f60-8a1b-3c5d7e9f0a21', domain: 'woodgrovecounty.gov' };
const TAILSPIN_DOD = { id: '5d7f9b13-6c8e-4a20-9b3d-5f7a9c1e3b42', domain: 'tailspindefense.mil', admin: 'admin@tailspindefense.mil', groupMail: 'watch@tailspindefense.mil' };
const LITWARE_CHINA = { id: '3e5a7c92-4d6f-4b81-8c2e-6a8b0d2f4c63', domain: 'litware.cn', admin: 'admin@litware.cn' };

describe.each(testEngines())('clouds: detection and per-tenant Graph hosts on %s', (engine) => {
  let portal: TestPortal;
  beforeAll(async () => {
    portal = await startTestPortal(engine, { TENANTGATE_DATA_CENTER: 'us-gov-virginia', TENANTGATE_CLOUD_DETECT_PER_MINUTE: '30' });
  });
  afterAll(async () => {
    await portal?.close();
  });

  const detect = (client: Awaited<ReturnType<typeof signUpPartner>>['client'], domain: string) => client.get(`/api/clouds/detect?domain=${encodeURIComponent(domain)}`);

  it('tells each variant from its domain, deciding by the discovery document', async () => {
    const { client } = await signUpPartner(portal.url);
    expect((await detect(client, CONTOSO.domain)).body).toMatchObject({ tenantId: CONTOSO.id, cloud: 'global', variant: 'commercial', graphHost: 'graph.microsoft.com' });
    const gcc = await detect(client, WOODGROVE_GCC.domain);
    expect(gcc.body).toMatchObject({ tenantId: WOODGROVE_GCC.id, cloud: 'global', variant: 'gcc', graphHost: 'graph.microsoft.com', explanation: 'GCC tenants use Global Microsoft 365.' });
    expect((await detect(client, FABRIKAM_GOV.domain)).body).toMatchObject({ tenantId: FABRIKAM_GOV.id, cloud: 'usgov', variant: 'gcc-high', graphHost: 'graph.microsoft.us' });
    expect((await detect(client, 'TailspinDefense.mil')).body).toMatchObject({ tenantId: TAILSPIN_DOD.id, cloud: 'usgov', variant: 'dod', graphHost: 'dod-graph.microsoft.us' });
    expect((await detect(client, LITWARE_CHINA.domain)).body).toMatchObject({ tenantId: LITWARE_CHINA.id, cloud: 'china', variant: 'china', graphHost: 'microsoftgraph.chinacloudapi.cn' });
  });

  it('accepts a domain name only, and names an unknown domain', async () => {
    const { client } = await signUpPartner(portal.url);
    for (const bad of ['https://contoso.com', 'contoso.com/path', 'contoso.com:443', '10.0.0.1', '[::1]', 'admin@contoso.com', 'localhost', '']) {
      const res = await detect(client, bad);
      expect(res.status, bad).toBe(400);
      expect(res.body.error, bad).toMatchObject({ code: 'DOMAIN_INVALID', details: { field: 'domain' } });
    }
    const unknown = await detect(client, 'no-such-tenant.example');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('TENANT_NOT_FOUND');
    expect(unknown.body.error.message).toContain('AADSTS90002');
  });

  it('limits detections per partner', async () => {
    const { client } = await signUpPartner(portal.url);
    const other = await signUpPartner(portal.url, 'Other Partner');
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) statuses.push((await detect(client, CONTOSO.domain)).status);
    expect(statuses.slice(0, 30).every((s) => s === 200)).toBe(true);
    const limited = await detect(client, CONTOSO.domain);
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('DETECT_RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await detect(other.client, CONTOSO.domain)).status).toBe(200);
  });

  it('creates a DoD profile through the US Government app and reads its Graph at the DoD host', async () => {
    const { client } = await signUpPartner(portal.url);
    const browser = new AdminBrowser(client);
    const outcome = await browser.createProfile('Tailspin DoD', { email: TAILSPIN_DOD.admin, password: SAMPLE_PASSWORD, consent: 'accept' }, 'usgov');
    expect(outcome.result, outcome.location).toBe('created');
    const row = await portal.services.db.selectFrom('app_profiles').selectAll().where('id', '=', outcome.profileId!).executeTakeFirstOrThrow();
    expect(row.graph_host).toBe('dod-graph.microsoft.us');
    expect((await client.post(`/api/app-profiles/${outcome.profileId}/check`)).body.status).toBe('active');
    const browse = await client.get(`/api/app-profiles/${outcome.profileId}/directory?type=group&search=Watch`);
    expect(browse.status, JSON.stringify(browse.body)).toBe(200);
    expect(browse.body.items.map((g: { email: string }) => g.email)).toContain(TAILSPIN_DOD.groupMail);
  });

  it('creates a 21Vianet profile against the China cloud', async () => {
    const { client } = await signUpPartner(portal.url);
    const browser = new AdminBrowser(client);
    const outcome = await browser.createProfile('Litware', { email: LITWARE_CHINA.admin, password: SAMPLE_PASSWORD, consent: 'accept' }, 'china');
    expect(outcome.result, outcome.location).toBe('created');
    const profile = (await client.get(`/api/app-profiles/${outcome.profileId}`)).body;
    expect(profile).toMatchObject({ cloud: 'china', tenantId: LITWARE_CHINA.id, tenantDomain: LITWARE_CHINA.domain, status: 'active' });
  });
});

describe('clouds: a cloud this deployment has no app for', () => {
  let portal: TestPortal;
  beforeAll(async () => {
    portal = await startTestPortal('sqlite');
  });
  afterAll(async () => {
    await portal?.close();
  });

  it('names the cloud the tenant is in and leaves the choice to the person', async () => {
    const { client } = await signUpPartner(portal.url);
    const res = await client.get(`/api/clouds/detect?domain=${TAILSPIN_DOD.domain}`);
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'CLOUD_NOT_OFFERED', details: { cloud: 'usgov', variant: 'dod' } });
    expect(res.body.error.message).toContain('Microsoft 365 U.S. Government');
  });
});
