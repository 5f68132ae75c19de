import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, signUpPartner } from '../support/api-client';
import { insertLocalUser } from '../support/db-fixtures';
import { testEngines } from '../support/engines';
import { AdminBrowser, CONTOSO, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../support/portal';
import { DIRECTORY_SYNC_JOB, enqueueRecurring, HEALTH_SWEEP_JOB } from '../../src/server/jobs/recurring';

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
    return res.body as {
      downloads: { jobId: string | null; groupId: string; state: string; reason: string | null; retryAt: string | null; progress: unknown; retryable: boolean; completedAt: string | null; memberCount: number | null }[];
      healthCheck: Record<string, unknown> & { retryAt: string | null };
      directorySync: { outcome: string; lastStartedAt: string | null; lastCompletedAt: string | null; reason: string | null; attempts: number; retryAt: string | null };
    };
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
    // The members the download stored (direct and nested), as the user list shows them.
    const members = await portal.services.db.selectFrom('group_members').select((eb) => eb.fn.countAll().as('n')).where('group_user_id', '=', groupId).executeTakeFirstOrThrow();
    expect(Number(members.n)).toBeGreaterThan(0);
    expect(shown.downloads[0]).toMatchObject({ memberCount: Number(members.n) });
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

  it('Sync now runs a failed directory sync at once, answers with it running or done, and is audited', async () => {
    expect((await sandboxFault({ status: 500, requests: 100 })).status).toBeLessThan(300);
    await portal.services.directorySync.syncAll();
    expect((await work()).directorySync.outcome).toBe('failed');
    expect((await sandboxFault({ status: 500, requests: 0 })).status).toBeLessThan(300);
    const lastCompleted = (await work()).directorySync.lastCompletedAt;

    const started = await client.post(`/api/app-profiles/${profileId}/background-work/sync`, {});
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    expect(started.body.directorySync.running || started.body.directorySync.outcome === 'completed').toBe(true);
    await expect.poll(async () => (await work()).directorySync.outcome, { timeout: 15_000 }).toBe('completed');
    expect((await work()).directorySync.lastCompletedAt! > (lastCompleted ?? '')).toBe(true);
    const audit = await client.get('/api/audit?action=app_profile.sync');
    expect(audit.body.items[0]).toMatchObject({ action: 'app_profile.sync', targetId: profileId, targetName: 'Contoso', outcome: 'success' });
  });

  /** Adds a recurring job as the schedule does at an interval's start, and the job's id. */
  const enqueueInterval = async (kind: typeof HEALTH_SWEEP_JOB | typeof DIRECTORY_SYNC_JOB) => {
    const intervalStart = new Date().toISOString();
    expect(await enqueueRecurring(portal.services.jobs.queue, kind, intervalStart)).toBe(true);
    return (await db().selectFrom('jobs').select('id').where('key', '=', `${kind}:${intervalStart}`).executeTakeFirstOrThrow()).id;
  };
  /** Runs the job's next attempt once the queue's backoff has passed. */
  const runWhenDue = async (jobId: string, retryAt: string) => {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(retryAt) - Date.now()) + 50));
    return portal.services.jobs.worker.runJob(jobId);
  };

  it('a health sweep that cannot reach Microsoft is retried by the queue with backoff, then succeeds; the profile shows it waiting', async () => {
    // The profile was checked a sweep ago, so the sweep takes it up; Microsoft's token endpoint answers 503 to every
    // request of the first attempt (the refresh's own three quick retries included).
    await db().updateTable('app_profiles').set({ last_checked_at: new Date(Date.now() - 86_400_000).toISOString() }).where('id', '=', profileId).execute();
    expect((await sandboxFault({ target: 'token', status: 503, requests: 4, retryAfterSeconds: 1 })).status).toBeLessThan(300);
    const jobId = await enqueueInterval(HEALTH_SWEEP_JOB);
    const first = await portal.services.jobs.worker.runJob(jobId);
    expect(first).toMatchObject({ state: 'queued', retryAt: expect.any(String) });
    const retryAt = (first as { retryAt: string }).retryAt;
    // Backoff with jitter after the first failed attempt: between 2.5 and 5 seconds.
    expect(Date.parse(retryAt) - Date.now()).toBeGreaterThan(1_500);
    expect(Date.parse(retryAt) - Date.now()).toBeLessThanOrEqual(5_000);
    expect((await work()).healthCheck).toMatchObject({ outcome: 'failed', attempts: 1, retryAt, running: false, lastError: { at: expect.any(String), message: expect.stringMatching(/503/) } });

    expect(await runWhenDue(jobId, retryAt)).toEqual({ state: 'done' });
    expect(await db().selectFrom('jobs').select(['state', 'attempts', 'last_error']).where('id', '=', jobId).executeTakeFirst()).toEqual({ state: 'done', attempts: 2, last_error: null });
    expect((await work()).healthCheck).toMatchObject({ outcome: 'succeeded', attempts: 2, retryAt: null, lastError: null });
  }, 30_000);

  it('a directory sync round stopped by a Graph fault waits to retry with when and why; the queue retries it and it completes', async () => {
    expect((await sandboxFault({ status: 500, requests: 100 })).status).toBeLessThan(300);
    const jobId = await enqueueInterval(DIRECTORY_SYNC_JOB);
    const first = await portal.services.jobs.worker.runJob(jobId);
    expect(first).toMatchObject({ state: 'queued', retryAt: expect.any(String) });
    const retryAt = (first as { retryAt: string }).retryAt;
    const waiting = (await work()).directorySync;
    expect(waiting).toMatchObject({ outcome: 'waiting', attempts: 1, retryAt, running: false });
    expect(waiting.reason).toMatch(/Microsoft Graph answered 500.*tried again automatically/);

    expect((await sandboxFault({ status: 500, requests: 0 })).status).toBeLessThan(300);
    expect(await runWhenDue(jobId, retryAt)).toEqual({ state: 'done' });
    const completed = (await work()).directorySync;
    expect(completed).toMatchObject({ outcome: 'completed', attempts: 2, retryAt: null, reason: null });
    expect(Date.parse(completed.lastCompletedAt!)).toBeGreaterThan(Date.parse(retryAt));
  }, 30_000);

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
    // Sync now: not for another partner's profile, and not for a profile nothing was added through.
    expect((await other.client.post(`/api/app-profiles/${profileId}/background-work/sync`, {})).status).toBe(404);
    const nothing = await other.client.post(`/api/app-profiles/${otherProfile}/background-work/sync`, {});
    expect([nothing.status, nothing.body.error.code]).toEqual([409, 'NOTHING_TO_SYNC']);

    await insertLocalUser(db(), partnerId, { email: 'member@acme-partner.test', password: 'silver-forest-river-9', role: 'member' });
    const member = new ApiClient(portal.url);
    expect((await member.post('/api/session', { email: 'member@acme-partner.test', password: 'silver-forest-river-9' })).status).toBe(200);
    expect((await member.get(`/api/app-profiles/${profileId}/background-work`)).status).toBe(403);
    expect((await member.post(`/api/app-profiles/${profileId}/background-work/${jobId}/retry`, {})).status).toBe(403);
    expect((await member.post(`/api/app-profiles/${profileId}/background-work/sync`, {})).status).toBe(403);
  });
});
