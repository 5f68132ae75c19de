import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, signUpPartner } from '../support/api-client';
import { insertLocalUser } from '../support/db-fixtures';
import { testEngines } from '../support/engines';
import { AdminBrowser, CONTOSO, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../support/portal';

/**
 * GET /api/app-profiles/{id}/background-work shows a profile's group member downloads (waiting to retry with
 * when and why, failed with the reason, done), its health check and directory sync; Retry restarts a failed
 * or waiting download. Another partner's profile or job is not found; a Member is refused.
 */
describe.each(testEngines())('background work of an app profile on %s', (engine) => {
  let portal: TestPortal;
  let client: ApiClient;
  let partnerId: string;
  let profileId: string;
  let groupId: string;
  const db = () => portal.services.db;
  const sandboxFault = (body: Record<string, unknown>) =>
    fetch(`${portal.sandbox!.baseUrl}/_sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenantId: CONTOSO.id, ...body }) });
  const work = async () => {
    const res = await client.get(`/api/app-profiles/${profileId}/background-work`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as { downloads: { jobId: string | null; groupId: string; state: string; reason: string | null; retryAt: string | null; progress: unknown; retryable: boolean; completedAt: string | null }[]; healthCheck: Record<string, unknown>; directorySync: { outcome: string; lastStartedAt: string | null; lastCompletedAt: string | null; reason: string | null } };
  };
  const download = async () => (await work()).downloads.find((d) => d.groupId === groupId)!;

  beforeAll(async () => {
    portal = await startTestPortal(engine);
    ({ client, partnerId } = await signUpPartner(portal.url));
    profileId = (await new AdminBrowser(client).createProfile('Contoso', { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' })).profileId!;
    const added = await client.post('/api/users', { signInType: 'microsoft365', emails: [CONTOSO.user, 'sales@contoso.com'], appProfileId: profileId, role: 'member' });
    groupId = (added.body.added as { id: string; kind: string }[]).find((u) => u.kind === 'group')!.id;
    await portal.services.users.downloadGroupMembers(partnerId, groupId);
  }, 60_000);
  afterAll(async () => {
    await portal?.close();
  });

  it('shows a completed download, the health check and the directory sync with when they are next due', async () => {
    const shown = await work();
    expect(shown.downloads).toEqual([expect.objectContaining({ groupId, group: 'sales@contoso.com', state: 'done', reason: null, retryable: false, completedAt: expect.any(String) })]);
    expect(shown.healthCheck).toMatchObject({ outcome: 'succeeded', lastCheckedAt: expect.any(String), lastError: null, nextDueAt: expect.any(String) });
    expect(shown.directorySync).toMatchObject({ outcome: 'never', lastCompletedAt: null, nextDueAt: expect.any(String) });
    await portal.services.directorySync.syncAll();
    const completed = (await work()).directorySync;
    expect(completed).toMatchObject({ outcome: 'completed', lastCompletedAt: expect.any(String), reason: null, running: false });
  });

  it('a directory sync round stopped by a Graph fault reads as failed until a round completes', async () => {
    expect((await sandboxFault({ status: 500, requests: 100 })).status).toBeLessThan(300);
    const [round] = await portal.services.directorySync.syncAll();
    expect(round.error).toBeTruthy();
    const failed = (await work()).directorySync;
    expect(failed).toMatchObject({ outcome: 'failed', lastStartedAt: expect.any(String), lastCompletedAt: expect.any(String), reason: expect.stringMatching(/stopped before it completed/) });
    expect(failed.lastStartedAt! > failed.lastCompletedAt!).toBe(true);
    expect((await sandboxFault({ status: 500, requests: 0 })).status).toBeLessThan(300);
    await portal.services.directorySync.syncAll();
    expect((await work()).directorySync).toMatchObject({ outcome: 'completed', reason: null });
  });

  it('a download failing on a Graph fault waits to retry with when and why; Retry completes it', async () => {
    expect((await sandboxFault({ status: 500, requests: 1 })).status).toBeLessThan(300);
    expect((await client.post(`/api/users/${groupId}/download-members`, {})).status).toBe(200);
    await expect(portal.services.users.downloadGroupMembers(partnerId, groupId)).rejects.toThrow();
    const waiting = await download();
    expect(waiting).toMatchObject({ state: 'waiting', retryable: true, jobId: expect.any(String) });
    expect(Date.parse(waiting.retryAt!)).toBeGreaterThan(Date.now());
    expect(waiting.reason).toMatch(/stopped after/);

    const retried = await client.post(`/api/app-profiles/${profileId}/background-work/${waiting.jobId}/retry`, {});
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    expect(retried.body.downloads[0]).toMatchObject({ state: 'queued', retryAt: null });
    await portal.services.users.downloadGroupMembers(partnerId, groupId);
    expect(await download()).toMatchObject({ state: 'done', reason: null, retryable: false });
    // A finished download is not retried.
    const again = await client.post(`/api/app-profiles/${profileId}/background-work/${waiting.jobId}/retry`, {});
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('JOB_NOT_RETRYABLE');
  });

  it('a download out of attempts is failed with its reason; Retry completes it', async () => {
    expect((await client.post(`/api/users/${groupId}/download-members`, {})).status).toBe(200);
    await db().updateTable('jobs').set({ max_attempts: 1 }).where('key', '=', `group-members:${groupId}`).execute();
    expect((await sandboxFault({ status: 500, requests: 1 })).status).toBeLessThan(300);
    await expect(portal.services.users.downloadGroupMembers(partnerId, groupId)).rejects.toThrow();
    const failed = await download();
    expect(failed).toMatchObject({ state: 'failed', retryAt: null, retryable: true });
    expect(failed.reason).toMatch(/stopped after/);
    expect((await client.post(`/api/app-profiles/${profileId}/background-work/${failed.jobId}/retry`)).status).toBe(200);
    await portal.services.users.downloadGroupMembers(partnerId, groupId);
    expect(await download()).toMatchObject({ state: 'done', reason: null });
  });

  it("another partner's profile or job reads as 404; a Member is refused with 403", async () => {
    const jobId = (await download()).jobId!;
    const other = await signUpPartner(portal.url, 'Other Partners');
    expect((await other.client.get(`/api/app-profiles/${profileId}/background-work`)).status).toBe(404);
    expect((await other.client.post(`/api/app-profiles/${profileId}/background-work/${jobId}/retry`, {})).status).toBe(404);
    // The other partner's own profile does not reach this partner's job either.
    const otherProfile = (await new AdminBrowser(other.client).createProfile('Contoso too', { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' })).profileId!;
    expect((await other.client.post(`/api/app-profiles/${otherProfile}/background-work/${jobId}/retry`, {})).status).toBe(404);
    expect((await other.client.get(`/api/app-profiles/${otherProfile}/background-work`)).body.downloads).toEqual([]);

    await insertLocalUser(db(), partnerId, { email: 'member@acme-partner.test', password: 'silver-forest-river-9', role: 'member' });
    const member = new ApiClient(portal.url);
    expect((await member.post('/api/session', { email: 'member@acme-partner.test', password: 'silver-forest-river-9' })).status).toBe(200);
    expect((await member.get(`/api/app-profiles/${profileId}/background-work`)).status).toBe(403);
    expect((await member.post(`/api/app-profiles/${profileId}/background-work/${jobId}/retry`, {})).status).toBe(403);
  });
});
