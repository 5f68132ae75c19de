import { describe, expect, it } from 'vitest';
import { createCloudDetector, normalizeDomain } from '../../../src/server/clouds/detect';
import { AppError } from '../../../src/server/http/errors';
import { defaultCloudEndpoints } from '../../../src/server/microsoft/clouds';
import { classifyDiscovery } from '../../../src/server/microsoft/discovery';

const TID = '5d7f9b13-6c8e-4a20-9b3d-5f7a9c1e3b42';
const doc = (login: string, fields: Record<string, unknown>) => ({ token_endpoint: `https://${login}/${TID}/oauth2/v2.0/token`, issuer: `https://${login}/${TID}/v2.0`, ...fields });
const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const notFound = () => json({ error: 'invalid_tenant', error_description: "AADSTS90002: Tenant 'x' not found.", error_codes: [90002] }, 400);

describe('classifyDiscovery: host names decide the cloud, region fields tell the variant', () => {
  it.each([
    ['commercial', doc('login.microsoftonline.com', { cloud_instance_name: 'microsoftonline.com', msgraph_host: 'graph.microsoft.com', tenant_region_scope: 'EU' }), 'global', 'graph.microsoft.com'],
    ['gcc', doc('login.microsoftonline.com', { cloud_instance_name: 'microsoftonline.com', msgraph_host: 'graph.microsoft.com', tenant_region_scope: 'NA', tenant_region_sub_scope: 'GCC' }), 'global', 'graph.microsoft.com'],
    ['gcc-high', doc('login.microsoftonline.us', { cloud_instance_name: 'microsoftonline.us', msgraph_host: 'graph.microsoft.us', tenant_region_scope: 'USGov', tenant_region_sub_scope: 'DODCON' }), 'usgov', 'graph.microsoft.us'],
    ['gcc-high', doc('login.microsoftonline.us', { cloud_instance_name: 'microsoftonline.us', msgraph_host: 'graph.microsoft.us', tenant_region_scope: 'USG' }), 'usgov', 'graph.microsoft.us'],
    ['dod', doc('login.microsoftonline.us', { cloud_instance_name: 'microsoftonline.us', msgraph_host: 'dod-graph.microsoft.us', tenant_region_scope: 'USGov', tenant_region_sub_scope: 'DOD' }), 'usgov', 'dod-graph.microsoft.us'],
    // No msgraph_host: the region field tells DoD, and its Graph host follows.
    ['dod', doc('login.microsoftonline.us', { cloud_instance_name: 'microsoftonline.us', tenant_region_scope: 'USGov', tenant_region_sub_scope: 'DOD' }), 'usgov', 'dod-graph.microsoft.us'],
    ['china', doc('login.partner.microsoftonline.cn', { cloud_instance_name: 'partner.microsoftonline.cn', msgraph_host: 'microsoftgraph.chinacloudapi.cn', tenant_region_scope: 'AS' }), 'china', 'microsoftgraph.chinacloudapi.cn'],
  ])('%s', (variant, document, cloud, graphHost) => {
    expect(classifyDiscovery(document)).toEqual({ tenantId: TID, cloud, variant, graphHost });
  });

  it('trusts the hosts over the region fields, and knows no unknown cloud', () => {
    // Region says GCC but the hosts are the US Government cloud's: the hosts win.
    expect(classifyDiscovery(doc('login.microsoftonline.us', { cloud_instance_name: 'microsoftonline.us', msgraph_host: 'graph.microsoft.us', tenant_region_sub_scope: 'GCC' }))?.variant).toBe('gcc-high');
    expect(classifyDiscovery(doc('login.microsoftonline.de', { cloud_instance_name: 'microsoftonline.de', msgraph_host: 'graph.microsoft.de' }))).toBeUndefined();
  });
});

describe('normalizeDomain: a domain name only', () => {
  it.each(['contoso.com', ' Contoso.COM ', 'sub.contoso.co.uk', 'xn--bcher-kva.example', 'contoso.com.'])('accepts %j', (input) => {
    expect(normalizeDomain(input)).toMatch(/^[a-z0-9.-]+[a-z0-9]$/);
  });
  it.each(['', 'https://contoso.com', 'contoso.com/x', 'contoso.com:8443', '192.168.1.1', '[::1]', '::1', 'user@contoso.com', 'localhost', 'contoso..com', '-contoso.com', 'a'.repeat(64) + '.com', 'contoso.123'])(
    'refuses %j',
    (input) => {
      expect(() => normalizeDomain(input)).toThrow(expect.objectContaining({ code: 'DOMAIN_INVALID', status: 400 }));
    },
  );
});

describe('the cloud detector', () => {
  const endpoints = defaultCloudEndpoints();
  const detector = (fetch: typeof globalThis.fetch, extra: Partial<Parameters<typeof createCloudDetector>[0]> = {}) =>
    createCloudDetector({ endpoints, offeredClouds: ['global', 'usgov', 'china'], perMinute: 100, fetch, ...extra });

  it('asks the global host, then the China host; caches the answer', async () => {
    const asked: string[] = [];
    const d = detector(async (input) => {
      const url = String(input);
      asked.push(new URL(url).host);
      if (url.startsWith('https://login.microsoftonline.com/')) return notFound();
      return json(doc('login.partner.microsoftonline.cn', { cloud_instance_name: 'partner.microsoftonline.cn', msgraph_host: 'microsoftgraph.chinacloudapi.cn' }));
    });
    expect(await d.detect('p1', 'litware.cn')).toMatchObject({ cloud: 'china', variant: 'china', cloudLabel: 'Microsoft 365 operated by 21Vianet' });
    expect(asked).toEqual(['login.microsoftonline.com', 'login.partner.microsoftonline.cn']);
    await d.detect('p2', 'LITWARE.cn');
    expect(asked).toHaveLength(2);
  });

  it('answers a clear error for a timeout, an unreadable answer and an unknown cloud', async () => {
    const timeout = detector(async (_input, init) => {
      await new Promise((resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)));
      throw new Error('unreachable');
    }, { timeoutMs: 20 });
    await expect(timeout.detect('p', 'slow.example')).rejects.toMatchObject({ status: 504, code: 'DETECT_TIMEOUT' });
    await expect(detector(async () => new Response('<html>', { status: 500 })).detect('p', 'broken.example')).rejects.toMatchObject({ status: 502, code: 'DETECT_FAILED' });
    await expect(detector(async () => json(doc('login.microsoftonline.de', { cloud_instance_name: 'microsoftonline.de' }))).detect('p', 'old.example')).rejects.toMatchObject({ status: 422, code: 'CLOUD_UNKNOWN' });
    const err = await detector(async () => notFound()).detect('p', 'nobody.example').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ status: 404, code: 'TENANT_NOT_FOUND' });
  });

  it('does not cache a timeout: the next try asks again', async () => {
    let calls = 0;
    const d = detector(async (_input, init) => {
      calls += 1;
      if (calls === 1) return new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)));
      return json(doc('login.microsoftonline.com', { cloud_instance_name: 'microsoftonline.com', msgraph_host: 'graph.microsoft.com' }));
    }, { timeoutMs: 20 });
    await expect(d.detect('p', 'contoso.com')).rejects.toMatchObject({ code: 'DETECT_TIMEOUT' });
    expect(await d.detect('p', 'contoso.com')).toMatchObject({ cloud: 'global', variant: 'commercial' });
  });

  it('limits each partner per minute, counting from its first detection', async () => {
    let now = 0;
    const d = detector(async () => json(doc('login.microsoftonline.com', { cloud_instance_name: 'microsoftonline.com', msgraph_host: 'graph.microsoft.com' })), { perMinute: 2, now: () => now });
    await d.detect('p', 'contoso.com');
    await d.detect('p', 'contoso.com');
    await expect(d.detect('p', 'contoso.com')).rejects.toMatchObject({ status: 429, code: 'DETECT_RATE_LIMITED', retryAfterSeconds: 60 });
    await d.detect('other', 'contoso.com');
    now = 60_000;
    await expect(d.detect('p', 'contoso.com')).resolves.toMatchObject({ cloud: 'global' });
  });
});
