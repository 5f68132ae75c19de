import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SandboxCloud } from '../../../src/sandbox-cloud/index';
import { ApiClient, signUpPartner } from '../../support/api-client';
import { AdminBrowser, CONTOSO, SAMPLE_PASSWORD } from '../../support/microsoft-round-trip';
import { freePort, portalEnv, startPortalProcess, withProcessStarts, type PortalProcess } from '../../support/portal-process';
import { SandboxUserAgent } from '../../support/sandbox-user-agent';
import { graphGet, POST_LOGOUT_URI, REDIRECT_URI, signIn, tokenRequest, type Harness } from './helpers';

/**
 * The portal and its built-in sandbox stopped (SIGTERM, and SIGKILL as a crash does) and started again over the
 * same data folder: Microsoft does not forget what it issued, so neither does the sandbox.
 */
describe.each(['SIGTERM', 'SIGKILL'] as const)('the sandbox remembers across a %s restart', (signal) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tenantgate-restart-'));
  let portal: PortalProcess | undefined;
  afterAll(async () => {
    await portal?.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  const control = async (method: string, sandboxUrl: string, route: string, body: unknown = {}) => {
    const res = await fetch(`${sandboxUrl}/_sandbox${route}`, { method, headers: { 'content-type': 'application/json' }, body: method === 'GET' ? undefined : JSON.stringify(body) });
    expect(res.status, `${method} ${route}: ${await res.clone().text()}`).toBeLessThan(300);
    return res.status === 204 ? null : ((await res.json()) as Record<string, unknown> & { id?: string });
  };

  /** A second app at the sandbox (a test tool), to hold refresh tokens of its own. */
  const probeOf = async (sandboxUrl: string, registration: { clientId: string; clientSecret: string }): Promise<Harness> => {
    const clouds = (await control('GET', sandboxUrl, '/clouds')) as unknown as SandboxCloud['clouds'];
    return { sandbox: { baseUrl: sandboxUrl, clouds } as SandboxCloud, ...registration };
  };

  /** An added Microsoft 365 user signing in to the portal; consent pages are refused, so re-consent would fail. */
  const microsoftSignIn = async (url: string, email: string) => {
    const client = new ApiClient(url);
    const start = await client.get(`/auth/microsoft/sign-in?email=${encodeURIComponent(email)}`);
    expect(start.status).toBe(303);
    const redirect = await new SandboxUserAgent().authorize(new URL(start.headers.get('location')!), { email, password: SAMPLE_PASSWORD, consent: 'cancel' });
    const callback = await client.get(`${redirect.pathname}${redirect.search}`);
    return { location: callback.headers.get('location'), session: (await client.get('/api/session')).status };
  };

  it('keeps profiles Active, control-endpoint changes, revocations and consents', async () => {
    const port = await freePort();
    const env = portalEnv(dataDir, port, await freePort());
    portal = await startPortalProcess(env);

    // Before: a partner with a Contoso profile and a Microsoft 365 user, tenant changes, two probe tokens.
    const { client } = await signUpPartner(portal.url);
    const created = await new AdminBrowser(client).createProfile('Contoso', { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
    expect(created.result, created.location).toBe('created');
    const profileId = created.profileId!;
    const added = await client.post('/api/users', { signInType: 'microsoft365', emails: [CONTOSO.user], appProfileId: profileId, role: 'member' });
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    expect((await microsoftSignIn(portal.url, CONTOSO.user)).location).toBe('/');

    const hire = await control('POST', portal.sandboxUrl, `/tenants/${CONTOSO.id}/users`, { userPrincipalName: 'new.hire@contoso.com', displayName: 'New Hire', password: SAMPLE_PASSWORD });
    const crew = await control('POST', portal.sandboxUrl, `/tenants/${CONTOSO.id}/groups`, { displayName: 'Restart Crew', members: ['new.hire@contoso.com'] });
    await control('PATCH', portal.sandboxUrl, `/tenants/${CONTOSO.id}/users/adele@contoso.com`, { displayName: 'Adele Renamed' });

    const probe = await probeOf(portal.sandboxUrl, (await control('POST', portal.sandboxUrl, '/apps', { displayName: 'Probe', redirectUris: [REDIRECT_URI], postLogoutRedirectUris: [POST_LOGOUT_URI] })) as unknown as { clientId: string; clientSecret: string });
    const kept = await signIn(probe, CONTOSO.admin);
    const revoked = await signIn(probe, CONTOSO.admin2);
    await control('POST', portal.sandboxUrl, `/tenants/${CONTOSO.id}/users/${CONTOSO.admin2}/revoke-sessions`);
    const refreshWith = (token: string) => tokenRequest(probe, 'global', 'organizations', { grant_type: 'refresh_token', refresh_token: token });
    expect((await refreshWith(revoked.refresh_token)).body.error_codes).toEqual([50173]);

    await portal.stop(signal);
    portal = await startPortalProcess(env);

    // After: Check now keeps the profile Active (same client id, same refresh token).
    const checked = await client.post(`/api/app-profiles/${profileId}/check`);
    expect(checked.status).toBe(200);
    expect(checked.body).toMatchObject({ status: 'active' });

    // Tenant changes made through the control endpoints are still there, as Graph shows them.
    const again = await refreshWith(kept.refresh_token);
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    const token = again.body.access_token!;
    const hireNow = await graphGet(probe, 'global', `/users/${hire!.id}`, token);
    expect(hireNow.body).toMatchObject({ userPrincipalName: 'new.hire@contoso.com', displayName: 'New Hire' });
    const members = await graphGet(probe, 'global', `/groups/${crew!.id}/members`, token);
    expect(members.body.value?.map((m) => m.id)).toEqual([hire!.id]);
    expect((await graphGet(probe, 'global', '/users/adele@contoso.com', token)).body.displayName).toBe('Adele Renamed');

    // The token revoked before the restart stays revoked (AADSTS50173, not an unknown token).
    const stillRevoked = await refreshWith(revoked.refresh_token);
    expect(stillRevoked.status).toBe(400);
    expect(stillRevoked.body.error_codes).toEqual([50173]);

    // The Microsoft 365 user signs in again; a consent page would be refused, so none was shown.
    expect(await microsoftSignIn(portal.url, CONTOSO.user)).toEqual({ location: '/', session: 200 });
  }, withProcessStarts(2, 90_000));
});
