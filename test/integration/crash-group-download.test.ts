import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../src/server/db/database';
import { SAMPLE_FIXTURE_PATH } from '../../src/sandbox-cloud/fixture';
import { signUpPartner } from '../support/api-client';
import { createPostgresDatabase, testEngines } from '../support/engines';
import { AdminBrowser, CONTOSO, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { freePort, portalEnv, startPortalProcess, withProcessStarts, type PortalProcess } from '../support/portal-process';

/**
 * Issue 9, crash (a): the portal is killed with SIGKILL during a group member download and started again over
 * the same data. The download goes on by itself from its last checkpoint (the stored `@odata.nextLink`) and
 * ends with every member once: nothing twice, nothing missing, no stuck lease. The group has the 50,000
 * members (51 Graph pages of 999), each Graph answer slowed by 70 ms, and the kill lands once 40% are stored
 * (about 15 s per engine; CRASH_GROUP_MEMBERS sets another count, the delay scaled to keep the download's length).
 */
const MEMBERS = Number(process.env.CRASH_GROUP_MEMBERS ?? 50_000);
/** The Graph delay per answer: the download lasts about as long whatever the member count. */
const DELAY_MS = Math.max(50, Math.round((700 * 5_000) / MEMBERS));
const PAGE = 999;
const LEASE_SECONDS = 4;
const KILL_AFTER = Math.max(2 * PAGE, Math.floor(MEMBERS * 0.4));

describe.each(testEngines())('a group member download killed with SIGKILL on %s', (engine) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tenantgate-crash-download-'));
  let portal: PortalProcess | undefined;
  let database: DatabaseHandle;
  let env: Record<string, string>;
  let dropDatabase: (() => Promise<void>) | undefined;
  const memberIds = Array.from({ length: MEMBERS }, () => randomUUID());

  beforeAll(async () => {
    // The sample tenants, and in Contoso MEMBERS more users, all in one mail-enabled group.
    const fixture = JSON.parse(readFileSync(SAMPLE_FIXTURE_PATH, 'utf8')) as { tenants: { id: string; users: unknown[]; groups: unknown[] }[] };
    const contoso = fixture.tenants.find((t) => t.id === CONTOSO.id)!;
    contoso.users.push(...memberIds.map((id, n) => ({ id, userPrincipalName: `crew${n}@contoso.com`, displayName: `Crew ${n}`, password: SAMPLE_PASSWORD })));
    contoso.groups.push({ displayName: 'Crash Crew', mail: 'crash-crew@contoso.com', mailEnabled: true, securityEnabled: true, members: memberIds });
    const fixturePath = path.join(dataDir, 'fixture.json');
    writeFileSync(fixturePath, JSON.stringify(fixture));
    const extra: Record<string, string> = { TENANTGATE_SANDBOX_FIXTURE: fixturePath, TENANTGATE_JOB_LEASE_SECONDS: String(LEASE_SECONDS) };
    if (engine === 'postgres') {
      const pg = await createPostgresDatabase();
      extra.DATABASE_URL = pg.url;
      dropDatabase = pg.drop;
    }
    env = portalEnv(path.join(dataDir, 'data'), await freePort(), await freePort(), extra);
    portal = await startPortalProcess(env);
    database = openDatabase({ databaseUrl: extra.DATABASE_URL, dataDir: env.TENANTGATE_DATA_DIR });
  }, withProcessStarts(1, 30_000));
  afterAll(async () => {
    await portal?.stop('SIGKILL');
    await database?.close();
    await dropDatabase?.();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const jobOf = (groupId: string) => database.db.selectFrom('jobs').selectAll().where('key', '=', `group-members:${groupId}`).executeTakeFirst();
  const storedCount = async (groupId: string) =>
    Number((await database.db.selectFrom('group_members').select((eb) => eb.fn.countAll<number>().as('n')).where('group_user_id', '=', groupId).executeTakeFirstOrThrow()).n);
  const storedMembers = async (groupId: string) =>
    (await database.db.selectFrom('group_members').select('member_object_id').where('group_user_id', '=', groupId).execute()).map((r) => r.member_object_id);

  it('goes on from its checkpoint after a restart and ends with every member once', async () => {
    const testStartedAt = Date.now();
    const { client } = await signUpPartner(portal!.url);
    const created = await new AdminBrowser(client).createProfile('Contoso', { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
    expect(created.result, created.location).toBe('created');
    const slow = await fetch(`${portal!.sandboxUrl}/_sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenantId: CONTOSO.id, delayMs: DELAY_MS, requests: 1_000 }) });
    expect(slow.status).toBeLessThan(300);

    const added = await client.post('/api/users', { signInType: 'microsoft365', emails: ['crash-crew@contoso.com'], appProfileId: created.profileId, role: 'member' });
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    const groupId = (added.body.added as { id: string; kind: string }[])[0].id;
    // A member row the group no longer has (stored before this download): the finished download removes it.
    await database.db.insertInto('group_members').values({ partner_id: (await database.db.selectFrom('users').select('partner_id').where('id', '=', groupId).executeTakeFirstOrThrow()).partner_id, group_user_id: groupId, member_object_id: 'f0f0f0f0-0000-4000-8000-00000000dead' }).execute();

    // Killed once 40% of the members (two pages at least) are stored and before the last page is.
    const deadline = Date.now() + 60_000;
    let stored = 0;
    while (stored < KILL_AFTER) {
      expect(Date.now(), 'the download did not get going').toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 50));
      stored = await storedCount(groupId);
    }
    await portal!.stop('SIGKILL');
    const atKill = await jobOf(groupId);
    stored = await storedCount(groupId);
    expect(stored).toBeLessThan(MEMBERS);
    expect(atKill).toMatchObject({ state: 'running', attempts: 1 });
    const checkpoint = JSON.parse(atKill!.checkpoint!) as { nextLink: string | null; done: number };
    expect(checkpoint.nextLink).toContain('skiptoken');
    expect(checkpoint.done).toBeGreaterThanOrEqual(KILL_AFTER - PAGE);

    const restartedAt = Date.now();
    portal = await startPortalProcess(env);
    const answeredAt = Date.now();
    let job = await jobOf(groupId);
    while (job?.state !== 'done') {
      expect(Date.now() - answeredAt, `the download did not finish after the restart: ${JSON.stringify(job)}`).toBeLessThan(120_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
      job = await jobOf(groupId);
    }
    const finishedInMs = Date.now() - restartedAt;

    // Every member once, nothing else (the members stored before the kill kept, the departed one removed); the job finished with no lease left, on its second attempt (the resumed one).
    const members = await storedMembers(groupId);
    expect(members).toHaveLength(MEMBERS);
    expect(new Set(members)).toEqual(new Set(memberIds));
    expect(job).toMatchObject({ state: 'done', attempts: 2, lease_owner: null, lease_until: null });
    const audit = await client.get('/api/audit?action=user.group_members.download&outcome=success');
    expect(audit.body.items[0]).toMatchObject({ targetId: groupId, details: { members: MEMBERS, removed: 1, resumed: true } });
    const listed = (await client.get('/api/users?search=crash-crew')).body.items[0];
    expect(listed).toMatchObject({ progress: null, syncError: null });
    console.log(
      `[${engine}] killed after ${checkpoint.done} of ${MEMBERS} members were checkpointed (${stored} stored); after the restart the download finished in ${finishedInMs} ms ` +
        `(lease ${LEASE_SECONDS} s, Graph answers slowed by ${DELAY_MS} ms); test took ${Date.now() - testStartedAt} ms`,
    );
  }, withProcessStarts(1, 200_000));
});
