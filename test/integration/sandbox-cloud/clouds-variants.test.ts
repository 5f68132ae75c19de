import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATE_FILE_NAME } from '../../../src/sandbox-cloud/index';
import { CONTOSO, control, FABRIKAM, graphGet, signIn, startHarness, type Harness } from './helpers';

const WOODGROVE_GCC = '9a3c5e71-2b4d-4f60-8a1b-3c5d7e9f0a21';
const TAILSPIN_DOD = '5d7f9b13-6c8e-4a20-9b3d-5f7a9c1e3b42';
const LITWARE_CHINA = '3e5a7c92-4d6f-4b81-8c2e-6a8b0d2f4c63';

const discover = async (login: string, tenant: string) => (await fetch(`${login}/${tenant}/v2.0/.well-known/openid-configuration`)).json();

describe('sandbox clouds: China, tenant variants and the DoD Graph', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.sandbox.close());

  it('reports each variant in its discovery document as Microsoft does; the global host answers for US Government tenants', async () => {
    const { global, usgov, china } = h.sandbox.clouds;
    const fields = (doc: Record<string, unknown>) => [doc.cloud_instance_name, doc.msgraph_host, doc.tenant_region_scope, doc.tenant_region_sub_scope];
    expect(fields(await discover(global.login, 'contoso.com'))).toEqual(['microsoftonline.com', 'graph.microsoft.com', 'WW', undefined]);
    expect(fields(await discover(global.login, 'woodgrovecounty.gov'))).toEqual(['microsoftonline.com', 'graph.microsoft.com', 'NA', 'GCC']);
    expect(fields(await discover(global.login, 'fabrikamgov.us'))).toEqual(['microsoftonline.us', 'graph.microsoft.us', 'USGov', 'DODCON']);
    const dod = await discover(global.login, 'tailspindefense.mil');
    expect(fields(dod)).toEqual(['microsoftonline.us', 'dod-graph.microsoft.us', 'USGov', 'DOD']);
    // A US Government tenant found through the global host is served by the US Government login host.
    expect(dod.token_endpoint).toBe(`${usgov.login}/tailspindefense.mil/oauth2/v2.0/token`);
    expect(dod.issuer).toBe(`${usgov.login}/${TAILSPIN_DOD}/v2.0`);
    const cn = await discover(china.login, 'litware.cn');
    expect(fields(cn)).toEqual(['partner.microsoftonline.cn', 'microsoftgraph.chinacloudapi.cn', 'AS', undefined]);
    expect(cn.issuer).toBe(`${china.login}/${LITWARE_CHINA}/v2.0`);
  });

  it('lists variants with the tenants', async () => {
    const { body } = await control(h, 'GET', '/tenants');
    const tenants = (body as { tenants: { id: string; cloud: string; variant?: string }[] }).tenants;
    expect(tenants.find((t) => t.id === WOODGROVE_GCC)).toMatchObject({ cloud: 'global', variant: 'gcc' });
    expect(tenants.find((t) => t.id === TAILSPIN_DOD)).toMatchObject({ cloud: 'usgov', variant: 'dod' });
    expect(tenants.find((t) => t.id === CONTOSO)).not.toHaveProperty('variant');
  });

  it('serves DoD tenants on their own Graph prefix and refuses their tokens at graph.microsoft.us', async () => {
    const tokens = await signIn(h, 'admin@tailspindefense.mil', { cloud: 'usgov' });
    const dodGraph = h.sandbox.clouds.usgov.graphHosts['dod-graph.microsoft.us'];
    expect(dodGraph).toBe(`${h.sandbox.baseUrl}/usgov-dod/graph`);
    const org = await graphGet(h, 'usgov', `${dodGraph}/v1.0/organization`, tokens.access_token);
    expect(org.status).toBe(200);
    expect(org.body.value?.[0]).toMatchObject({ id: TAILSPIN_DOD });
    const wrongHost = await graphGet(h, 'usgov', '/organization', tokens.access_token);
    expect(wrongHost.status).toBe(401);
    expect(wrongHost.body.error?.code).toBe('InvalidAuthenticationToken');

    // And the other way round: a GCC High tenant's token is no good at the DoD host.
    const gov = await signIn(h, 'admin@fabrikamgov.us', { cloud: 'usgov' });
    expect((await graphGet(h, 'usgov', '/organization', gov.access_token)).body.value?.[0]).toMatchObject({ id: FABRIKAM });
    expect((await graphGet(h, 'usgov', `${dodGraph}/v1.0/organization`, gov.access_token)).status).toBe(401);
  });

  it('signs in and serves Graph for China tenants at the China cloud', async () => {
    const tokens = await signIn(h, 'admin@litware.cn', { cloud: 'china' });
    const org = await graphGet(h, 'china', '/organization', tokens.access_token);
    expect(org.status).toBe(200);
    expect(org.body.value?.[0]).toMatchObject({ id: LITWARE_CHINA });
  });
});

describe('sandbox clouds across a restart', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tenantgate-clouds-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps posted variants, and gives a state saved before the China cloud a key for it', async () => {
    const first = await startHarness({ stateDir: dir });
    const posted = await control(first, 'POST', '/fixture', {
      tenants: [
        {
          id: '6a6a6a6a-0000-4000-8000-000000000001',
          cloud: 'usgov',
          variant: 'dod',
          displayName: 'Posted DoD',
          domains: [{ name: 'posted.mil' }],
          users: [{ userPrincipalName: 'admin@posted.mil', displayName: 'Admin', password: 'Passw0rd!', roles: ['Global Administrator'] }],
        },
      ],
    });
    expect(posted.status).toBeLessThan(300);
    await first.sandbox.close();

    // As if saved by a sandbox that emulated only global and usgov.
    const db = new Database(path.join(dir, STATE_FILE_NAME));
    const keys = JSON.parse(db.prepare("SELECT value FROM meta WHERE key = 'keys'").pluck().get() as string) as Record<string, string>;
    delete keys.china;
    db.prepare("UPDATE meta SET value = ? WHERE key = 'keys'").run(JSON.stringify(keys));
    db.close();

    const second = await startHarness({ stateDir: dir });
    try {
      expect(second.sandbox.restored).toBe(true);
      expect((await discover(second.sandbox.clouds.global.login, 'posted.mil')).msgraph_host).toBe('dod-graph.microsoft.us');
      const chinaKeys = await (await fetch(`${second.sandbox.clouds.china.login}/organizations/discovery/v2.0/keys`)).json();
      expect(chinaKeys.keys).toHaveLength(1);
    } finally {
      await second.sandbox.close();
    }
  });
});
