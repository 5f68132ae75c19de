import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandboxCloud, type SandboxCloud } from '../../src/sandbox-cloud/index';
import { signUpPartner } from '../support/api-client';
import { AdminBrowser, CONTOSO, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../support/portal';

describe('a portal using a sandbox cloud that runs elsewhere (TENANTGATE_SANDBOX_URL)', () => {
  let sandbox: SandboxCloud;
  let portal: TestPortal;
  beforeAll(async () => {
    sandbox = await startSandboxCloud({ port: 0 });
    portal = await startTestPortal('sqlite', { TENANTGATE_SANDBOX_URL: `${sandbox.baseUrl}/` });
  });
  afterAll(async () => {
    await portal?.close();
    await sandbox?.close();
  });

  it('registers itself there, says where it is, and connects a tenant through it', async () => {
    expect(portal.sandbox).toBeUndefined();
    expect(await (await fetch(`${portal.url}/api/sandbox`)).json()).toEqual({ enabled: true, baseUrl: sandbox.baseUrl });
    const { client } = await signUpPartner(portal.url);
    const outcome = await new AdminBrowser(client).createProfile('Remote sandbox', { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
    expect(outcome.result).toBe('created');
    const start = await client.post('/api/app-profiles', { name: 'Another', cloud: 'global' });
    expect(start.body.authorizationUrl.startsWith(sandbox.clouds.global.login)).toBe(true);
  });

  it('refuses to start when that sandbox cannot be reached, naming the setting', async () => {
    await expect(startTestPortal('sqlite', { TENANTGATE_SANDBOX_URL: 'http://127.0.0.1:9' })).rejects.toThrow(/TENANTGATE_SANDBOX_URL/);
  });
});
