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
 * Issue 9, crash (d): the portal is killed with SIGKILL during a directory sync round (src/server/directory-sync)
 * and started again over the same data. The round is a queue job: the restarted portal takes it up again once the
 * dead instance's lease lapses and completes it by itself within one job interval of the restart:
 * the group's members are exactly the tenant's (nothing twice, nothing missing, the departed gone), the renamed
 * user carries the new name, no lease stays held. Every Graph answer of the round is slowed by 800 ms (a sandbox
 * fault), so the kill lands after the users' delta link is stored and before the groups part is.
 */
const MEMBERS = 400;
const LEASE_SECONDS = 4;
const INTERVAL_MS = 15_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(testEngines())('a directory sync round killed with SIGKILL on %s', (engine) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tenantgate-crash-sync-'));
  let portal: PortalProcess | undefined;
  let database: DatabaseHandle;
  let env: Record<string, string>;
  let dropDatabase: (() => Promise<void>) | undefined;
  const memberIds = Array.from({ length: MEMBERS }, () => randomUUID());
  const groupObjectId = randomUUID();

  beforeAll(async () => {
    const fixture = JSON.parse(readFileSync(SAMPLE_FIXTURE_PATH, 'utf8')) as { tenants: { id: string; users: unknown[]; groups: unknown[] }[] };
    const contoso = fixture.tenants.find((t) => t.id === CONTOSO.id)!;
    contoso.users.push(...memberIds.map((id, n) => ({ id, userPrincipalName: `syncer${n}@contoso.com`, displayName: `Syncer ${n}`, password: SAMPLE_PASSWORD })));
    contoso.groups.push({ id: groupObjectId, displayName: 'Sync Crew', mail: 'sync-crew@contoso.com', mailEnabled: true, securityEnabled: true, members: memberIds });
    const fixturePath = path.join(dataDir, 'fixture.json');
    writeFileSync(fixturePath, JSON.stringify(fixture));
    const extra: Record<string, string> = {
      TENANTGATE_SANDBOX_FIXTURE: fixturePath,
      TENANTGATE_JOB_LEASE_SECONDS: String(LEASE_SECONDS),
      TENANTGATE_DIRECTORY_SYNC_INTERVAL_MINUTES: String(INTERVAL_MS / 60_000),
    };
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

  const sandbox = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(`${portal!.sandboxUrl}/_sandbox${route}`, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
    expect(res.status, `${method} ${route}`).toBeLessThan(300);
  };
  const storedMembers = async (groupId: string) =>
    (await database.db.selectFrom('group_members').select('member_object_id').where('group_user_id', '=', groupId).execute()).map((r) => r.member_object_id);
  const roundJobs = () => database.db.selectFrom('jobs').selectAll().where('kind', '=', 'directory-sync').orderBy('created_at').execute();
  const leaseOf = (name: string) => database.db.selectFrom('job_leases').selectAll().where('name', '=', name).executeTakeFirst();
  const deltaLinks = (profileId: string) => database.db.selectFrom('directory_sync_state').select(['resource', 'updated_at']).where('app_profile_id', '=', profileId).execute();
  const waitFor = async (what: string, limitMs: number, done: () => Promise<boolean>) => {
    const deadline = Date.now() + limitMs;
    while (!(await done())) {
      expect(Date.now(), what).toBeLessThan(deadline);
      await sleep(50);
    }
  };

  it('completes by itself within one job interval of the restart, with every member once and no lease left', async () => {
    const { client, partnerId } = await signUpPartner(portal!.url);
    const created = await new AdminBrowser(client).createProfile('Contoso', { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
    expect(created.result, created.location).toBe('created');
    const profileId = created.profileId!;
    const added = await client.post('/api/users', { signInType: 'microsoft365', emails: ['sync-crew@contoso.com', CONTOSO.user], appProfileId: profileId, role: 'member' });
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    const entries = added.body.added as { id: string; kind: string }[];
    const groupId = entries.find((e) => e.kind === 'group')!.id;
    const alexId = entries.find((e) => e.kind === 'user')!.id;
    await waitFor('the member download did not finish', 30_000, async () => (await database.db.selectFrom('jobs').select('state').where('key', '=', `group-members:${groupId}`).executeTakeFirst())?.state === 'done');
    expect(await storedMembers(groupId)).toHaveLength(MEMBERS);

    // Graph slows down; then the tenant changes: three members leave, three new people join, Alex is renamed.
    await sandbox('POST', '/faults', { tenantId: CONTOSO.id, delayMs: 800, requests: 12 });
    const leaving = memberIds.slice(0, 3);
    const joining = [0, 1, 2].map((n) => ({ id: randomUUID(), userPrincipalName: `joiner${n}@contoso.com`, displayName: `Joiner ${n}`, password: SAMPLE_PASSWORD }));
    for (const id of leaving) await sandbox('DELETE', `/tenants/${CONTOSO.id}/groups/${groupObjectId}/members/${id}`);
    for (const user of joining) {
      await sandbox('POST', `/tenants/${CONTOSO.id}/users`, user);
      await sandbox('POST', `/tenants/${CONTOSO.id}/groups/${groupObjectId}/members`, { member: user.id });
    }
    await sandbox('PATCH', `/tenants/${CONTOSO.id}/users/${CONTOSO.user}`, { displayName: 'Alex Renamed' });
    const expected = new Set([...memberIds.slice(3), ...joining.map((u) => u.id)].map((id) => id.toLowerCase()));

    // Killed inside a round: the profile's lease is held and the users' delta link of this round is stored,
    // the groups part (two slowed Graph calls at least) not yet.
    const lease = `directory-sync:${profileId}`;
    await waitFor('no sync round got going', 2 * INTERVAL_MS + 10_000, async () => {
      const held = await leaseOf(lease);
      if (!held?.holder || !held.last_run_at) return false;
      const users = (await deltaLinks(profileId)).find((l) => l.resource === 'users');
      return users !== undefined && users.updated_at >= held.last_run_at;
    });
    await portal!.stop('SIGKILL');
    const killedAt = Date.now();
    const heldAtKill = await leaseOf(lease);
    expect(heldAtKill?.holder).not.toBeNull();
    const membersAtKill = await storedMembers(groupId);
    // The round is a queue job, running under the dead instance's lease, the profile not yet in its checkpoint.
    const killed = (await roundJobs()).at(-1)!;
    expect(killed).toMatchObject({ state: 'running' });
    expect(JSON.parse(killed.checkpoint ?? '{"done":[]}').done ?? []).not.toContain(profileId);

    const restartedAt = Date.now();
    portal = await startPortalProcess(env);
    const restartMs = Date.now() - restartedAt;
    let finishedInMs = 0;
    await waitFor(`the round did not complete within one interval (${INTERVAL_MS} ms) of the restart`, restartMs + INTERVAL_MS, async () => {
      const groups = (await deltaLinks(profileId)).find((l) => l.resource === 'groups');
      const job = (await roundJobs()).find((j) => j.id === killed.id);
      const done = groups !== undefined && Date.parse(groups.updated_at) > killedAt && (await leaseOf(lease))?.holder === null && job?.state === 'done';
      if (done) finishedInMs = Date.now() - restartedAt;
      return done;
    });

    // Every member once (the primary key would refuse a second row; the set and the count say none is missing or extra).
    const members = await storedMembers(groupId);
    expect(members).toHaveLength(expected.size);
    expect(new Set(members)).toEqual(expected);
    const entriesNow = await database.db.selectFrom('users').select(['id', 'ms_object_id', 'display_name']).where('partner_id', '=', partnerId).where('app_profile_id', '=', profileId).execute();
    expect(entriesNow.map((e) => e.id).sort()).toEqual([alexId, groupId].sort());
    expect(entriesNow.find((e) => e.id === alexId)?.display_name).toBe('Alex Renamed');
    expect(await leaseOf(lease)).toMatchObject({ holder: null });
    // The killed round's job was taken up again and finished (a second attempt at least), its lease let go.
    expect((await roundJobs()).find((j) => j.id === killed.id)).toMatchObject({ state: 'done', lease_owner: null, attempts: expect.any(Number) });
    expect((await roundJobs()).find((j) => j.id === killed.id)!.attempts).toBeGreaterThanOrEqual(2);
    const listed = (await client.get('/api/users?search=sync-crew')).body.items[0];
    expect(listed).toMatchObject({ syncError: null });
    console.log(
      `[${engine}] killed with ${membersAtKill.length} members stored (lease held until ${heldAtKill?.lease_until}); restart took ${restartMs} ms; ` +
        `the round completed ${finishedInMs} ms after the restart began (interval ${INTERVAL_MS / 1000} s, job lease ${LEASE_SECONDS} s)`,
    );
  }, withProcessStarts(1, 90_000));
});
