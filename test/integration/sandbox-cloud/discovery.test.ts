import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTOSO, FABRIKAM, signIn, startHarness, type Harness } from './helpers';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.sandbox.close());

const discover = (login: string, tenant: string) => fetch(`${login}/${tenant}/v2.0/.well-known/openid-configuration`);

describe('sandbox discovery and keys', () => {
  it('answers where each cloud lives', async () => {
    const res = await fetch(`${h.sandbox.baseUrl}/_sandbox/clouds`);
    const base = h.sandbox.baseUrl;
    expect(await res.json()).toEqual({
      global: { login: `${base}/global/login`, graph: `${base}/global/graph`, graphHosts: { 'graph.microsoft.com': `${base}/global/graph` } },
      usgov: {
        login: `${base}/usgov/login`,
        graph: `${base}/usgov/graph`,
        graphHosts: { 'graph.microsoft.us': `${base}/usgov/graph`, 'dod-graph.microsoft.us': `${base}/usgov-dod/graph` },
      },
      china: { login: `${base}/china/login`, graph: `${base}/china/graph`, graphHosts: { 'microsoftgraph.chinacloudapi.cn': `${base}/china/graph` } },
    });
    expect(h.sandbox.clouds.global.login).toBe(`${h.sandbox.baseUrl}/global/login`);
  });

  it('gives organizations and common the literal {tenantid} issuer, with cloud names', async () => {
    const { login } = h.sandbox.clouds.global;
    for (const tenant of ['organizations', 'common']) {
      const doc = await (await discover(login, tenant)).json();
      expect(doc.issuer).toBe(`${login}/{tenantid}/v2.0`);
      expect(doc.authorization_endpoint).toBe(`${login}/${tenant}/oauth2/v2.0/authorize`);
      expect(doc.token_endpoint).toBe(`${login}/${tenant}/oauth2/v2.0/token`);
      expect(doc.jwks_uri).toBe(`${login}/${tenant}/discovery/v2.0/keys`);
      expect(doc.end_session_endpoint).toBe(`${login}/${tenant}/oauth2/v2.0/logout`);
      expect(doc.cloud_instance_name).toBe('microsoftonline.com');
      expect(doc.msgraph_host).toBe('graph.microsoft.com');
    }
    const gov = await (await discover(h.sandbox.clouds.usgov.login, 'organizations')).json();
    expect(gov.cloud_instance_name).toBe('microsoftonline.us');
  });

  it('names the tenant issuer for a tenant id or any of its domains', async () => {
    const { login } = h.sandbox.clouds.global;
    for (const tenant of [CONTOSO, 'contoso.com', 'contoso.onmicrosoft.com']) {
      const doc = await (await discover(login, tenant)).json();
      expect(doc.issuer).toBe(`${login}/${CONTOSO}/v2.0`);
    }
  });

  it('answers AADSTS90002 for an unknown tenant and for a tenant of another cloud', async () => {
    for (const [login, tenant] of [
      [h.sandbox.clouds.global.login, 'nosuch.example'],
      [h.sandbox.clouds.global.login, 'litware.cn'],
      [h.sandbox.clouds.usgov.login, 'contoso.com'],
      [h.sandbox.clouds.china.login, FABRIKAM],
    ]) {
      const res = await discover(login, tenant);
      expect(res.status).toBe(400);
      const body = await res.json();
      expect(body.error_codes).toEqual([90002]);
      expect(body.error_description).toMatch(/^AADSTS90002: Tenant '.+' not found\..*\r\nTrace ID: [0-9a-f-]+\r\nCorrelation ID: [0-9a-f-]+\r\nTimestamp: /s);
      expect(body).toHaveProperty('trace_id');
      expect(body).toHaveProperty('correlation_id');
      expect(body).toHaveProperty('timestamp');
      expect(body.error_uri).toContain('90002');
    }
  });

  it('publishes RS256 keys with kid and issuer; each cloud has its own key', async () => {
    const global = await (await fetch(`${h.sandbox.clouds.global.login}/organizations/discovery/v2.0/keys`)).json();
    const gov = await (await fetch(`${h.sandbox.clouds.usgov.login}/organizations/discovery/v2.0/keys`)).json();
    expect(global.keys[0]).toMatchObject({ kty: 'RSA', use: 'sig', issuer: `${h.sandbox.clouds.global.login}/{tenantid}/v2.0` });
    expect(global.keys[0].kid).toEqual(expect.any(String));
    expect(gov.keys[0].kid).not.toBe(global.keys[0].kid);
    const tenantKeys = await (await fetch(`${h.sandbox.clouds.global.login}/${CONTOSO}/discovery/v2.0/keys`)).json();
    expect(tenantKeys.keys[0].issuer).toBe(`${h.sandbox.clouds.global.login}/${CONTOSO}/v2.0`);
  });

  it('signs ID tokens that verify against the JWKS with the {tenantid} issuer substituted', async () => {
    const tokens = await signIn(h, 'alex@contoso.com', { scope: 'openid profile email offline_access User.Read' });
    const { login } = h.sandbox.clouds.global;
    const jwks = createRemoteJWKSet(new URL(`${login}/organizations/discovery/v2.0/keys`));
    const [header] = tokens.id_token!.split('.');
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toMatchObject({ alg: 'RS256', kid: expect.any(String) });
    const template = (await (await discover(login, 'organizations')).json()).issuer as string;
    const { payload } = await jwtVerify(tokens.id_token!, jwks, { audience: h.clientId });
    expect(payload.iss).toBe(template.replace('{tenantid}', String(payload.tid)));
    expect(payload).toMatchObject({ tid: CONTOSO, ver: '2.0', nonce: 'n-1', preferred_username: 'alex@contoso.com', name: 'Alex Wilber', email: 'alex@contoso.com' });
  });
});
