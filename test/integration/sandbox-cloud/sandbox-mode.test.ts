import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandboxCloud } from '../../../src/sandbox-cloud/index';
import { freePort, portalEnv, runScript, startPortalProcess, withProcessStarts } from '../../support/portal-process';
import { CONTOSO, startHarness, type Harness } from './helpers';

/** Sandbox mode does not fail open (issue 8, item 3). */
describe('sandbox mode at start-up', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tenantgate-mode-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('starts out of the box with a banner saying sandbox mode, why, and how to leave it', async () => {
    const portal = await startPortalProcess(portalEnv(dataDir, await freePort(), await freePort()));
    try {
      const banner = portal.output();
      expect(banner).toContain('SANDBOX MODE');
      expect(banner).toMatch(/Why: no Microsoft app is configured/);
      expect(banner).toMatch(/To leave it: set MICROSOFT_CLIENT_ID, MICROSOFT_CLIENT_SECRET and TENANTGATE_ENCRYPTION_KEYS/);
      expect(banner).toContain('TENANTGATE_SANDBOX=off');
    } finally {
      await portal.stop('SIGTERM');
    }
  }, withProcessStarts(1, 30_000));

  it.each([
    ['NODE_ENV=production', { NODE_ENV: 'production' }],
    ['an https PUBLIC_URL', { PUBLIC_URL: 'https://portal.example.com' }],
  ])('refuses to start in sandbox mode with %s unless TENANTGATE_SANDBOX=on', async (_name, extra) => {
    const run = runScript('src/server/main.ts', portalEnv(dataDir, await freePort(), await freePort(), extra));
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(/Invalid setting MICROSOFT_CLIENT_ID: .*sandbox mode.*TENANTGATE_SANDBOX=on/);
  }, withProcessStarts(1, 30_000));

  it('TENANTGATE_SANDBOX=off without a Microsoft app stops start-up naming the variables', async () => {
    const run = runScript('src/server/main.ts', portalEnv(dataDir, await freePort(), await freePort(), { TENANTGATE_SANDBOX: 'off' }));
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(/MICROSOFT_CLIENT_ID.*MICROSOFT_CLIENT_SECRET/);
  }, withProcessStarts(1, 30_000));

  it('the sandbox refuses a non-loopback host unless allowed explicitly', async () => {
    await expect(startSandboxCloud({ port: 0, host: '0.0.0.0' })).rejects.toThrow(/loopback.*TENANTGATE_SANDBOX_ALLOW_REMOTE=true/);
    const allowed = await startSandboxCloud({ port: 0, host: '0.0.0.0', allowRemote: true });
    await allowed.close();
  });
});

describe('the control endpoints take JSON only and send no CORS headers', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.sandbox.close();
  });
  const url = (route: string) => `${h.sandbox.baseUrl}/_sandbox${route}`;
  const revoke = `/tenants/${CONTOSO}/users/alex@contoso.com/revoke-sessions`;
  const crossSite = { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' };

  it.each([
    ['a form', 'application/x-www-form-urlencoded', 'userPrincipalName=x%40contoso.com&displayName=X&password=p'],
    ['a multipart form', 'multipart/form-data; boundary=b', '--b\r\nContent-Disposition: form-data; name="displayName"\r\n\r\nX\r\n--b--\r\n'],
    ['text', 'text/plain', '{"userPrincipalName":"x@contoso.com","displayName":"X","password":"p"}'],
  ])('refuses %s body (415) and changes nothing', async (_name, type, body) => {
    const res = await fetch(url(`/tenants/${CONTOSO}/users`), { method: 'POST', headers: { 'content-type': type, ...crossSite }, body });
    expect(res.status).toBe(415);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const tenants = (await (await fetch(url('/tenants'))).json()) as { tenants: { id: string; users: number }[] };
    expect(tenants.tenants.find((t) => t.id === CONTOSO)!.users).toBe(6);
  });

  it('refuses a POST with no content type (what a no-cors fetch sends) and a form with no fields', async () => {
    expect((await fetch(url(revoke), { method: 'POST', headers: crossSite })).status).toBe(415);
    expect((await fetch(url(revoke), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...crossSite } })).status).toBe(415);
    expect((await fetch(url('/clock'), { method: 'POST', headers: { 'content-type': 'text/plain', ...crossSite }, body: '{"advanceSeconds": 99999999}' })).status).toBe(415);
    expect(((await (await fetch(url('/clock'))).json()) as { offsetSeconds: number }).offsetSeconds).toBe(0);
  });

  it('answers JSON requests (an empty JSON body reads as {}), and a preflight gets no CORS grant', async () => {
    expect((await fetch(url(revoke), { method: 'POST', headers: { 'content-type': 'application/json' } })).status).toBe(204);
    const preflight = await fetch(url('/clock'), { method: 'OPTIONS', headers: { ...crossSite, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    expect(preflight.headers.get('access-control-allow-methods')).toBeNull();
    const ok = await fetch(url('/clock'), { headers: crossSite });
    expect(ok.status).toBe(200);
    expect([...ok.headers.keys()].filter((k) => k.startsWith('access-control-'))).toEqual([]);
  });
});
