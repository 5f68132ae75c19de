import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshTokenAad } from '../../src/server/app-profiles/health';
import { openDatabase, type DatabaseHandle } from '../../src/server/db/database';
import { KEY_FILE_NAME } from '../../src/server/security/key-file';
import { createSecretBox, parseKeyList } from '../../src/server/security/secret-box';
import { SAMPLE_FIXTURE_PATH } from '../../src/sandbox-cloud/fixture';
import { GrantStore } from '../../src/sandbox-cloud/identity/grants';
import { sandboxStateDir, SqliteStateFile } from '../../src/sandbox-cloud/persistence';
import { signUpPartner } from '../support/api-client';
import { createPostgresDatabase, testEngines } from '../support/engines';
import { AdminBrowser, CONTOSO, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { freePort, portalEnv, startPortalProcess, withProcessStarts, type PortalProcess } from '../support/portal-process';

/**
 * Issue 9, crash (c): the portal is killed with SIGKILL during a health sweep of 1,000 profiles and started
 * again over the same data. The sweep is a queue job that checkpoints each stored batch: once the dead instance's
 * lease lapses, the restarted portal takes the same job up again (a second attempt, no second job) from its
 * checkpoint, within one job interval of the restart, and every profile ends checked: those whose refresh the killed sweep had stored are not refreshed again, every other
 * one is, none is marked expired or failing by the crash, no lease stays held.
 *
 * Seeding (fast, as test/bench does): one profile is created through the real consent round trip; then, with
 * the portal stopped, 1,000 people of the tenant each get a refresh token in the sandbox's state file (its own
 * GrantStore, one token chain per person, as 1,000 sign-ins would leave) and 1,000 partners each get a profile
 * holding one of them, sealed with the portal's key. The tenant's token endpoint answers every request 150 ms
 * late (a sandbox fault), so the sweep takes seconds and the kill lands in its second batch of 500.
 */
const PROFILES = 1_000;
const BATCH = 500;
const LEASE_SECONDS = 4;
const INTERVAL_MS = 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(testEngines())('a health sweep of 1,000 profiles killed with SIGKILL on %s', (engine) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tenantgate-crash-sweep-'));
  let portal: PortalProcess | undefined;
  let database: DatabaseHandle;
  let env: Record<string, string>;
  let dropDatabase: (() => Promise<void>) | undefined;
  const personIds = Array.from({ length: PROFILES }, () => randomUUID());

  beforeAll(async () => {
    const fixture = JSON.parse(readFileSync(SAMPLE_FIXTURE_PATH, 'utf8')) as { tenants: { id: string; users: unknown[] }[] };
    fixture.tenants.find((t) => t.id === CONTOSO.id)!.users.push(...personIds.map((id, n) => ({ id, userPrincipalName: `checked${n}@contoso.com`, displayName: `Checked ${n}`, password: SAMPLE_PASSWORD })));
    const fixturePath = path.join(dataDir, 'fixture.json');
    writeFileSync(fixturePath, JSON.stringify(fixture));
    const extra: Record<string, string> = {
      TENANTGATE_SANDBOX_FIXTURE: fixturePath,
      TENANTGATE_JOB_LEASE_SECONDS: String(LEASE_SECONDS),
      TENANTGATE_HEALTH_CHECK_INTERVAL_MINUTES: String(INTERVAL_MS / 60_000),
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

  const tokenUsage = async () => (await (await fetch(`${portal!.sandboxUrl}/_sandbox/requests?tenantId=${CONTOSO.id}`)).json()) as { tokenRequests?: number; refreshes?: number };
  const sweepLease = () => database.db.selectFrom('job_leases').selectAll().where('name', '=', 'app-profile-health').executeTakeFirst();
  /** The sweep's queue jobs (one per interval). */
  const sweepJobs = () => database.db.selectFrom('jobs').selectAll().where('kind', '=', 'app-profile-health').execute();
  const checkedSince = async (since: string) => Number((await database.db.selectFrom('app_profiles').select((eb) => eb.fn.countAll<number>().as('n')).where('last_checked_at', '>', since).executeTakeFirstOrThrow()).n);

  /** With the portal stopped: 1,000 refresh tokens in the sandbox's state, 1,000 partners with a profile each. */
  async function seed(seedProfileId: string, checkedAt: string): Promise<void> {
    const stateFile = SqliteStateFile.open(sandboxStateDir(undefined, env.TENANTGATE_DATA_DIR)!);
    const consentGrant = stateFile.read()!.refreshTokens.map(([, grant]) => grant).find((grant) => grant.tenantId === CONTOSO.id)!;
    const grants = new GrantStore(stateFile);
    const tokens = personIds.map((userId) => grants.issueRefreshToken({ ...consentGrant, userId }));
    stateFile.close();

    const box = createSecretBox(parseKeyList(readFileSync(path.join(env.TENANTGATE_DATA_DIR, KEY_FILE_NAME), 'utf8').trim()));
    const template = await database.db.selectFrom('app_profiles').selectAll().where('id', '=', seedProfileId).executeTakeFirstOrThrow();
    const now = new Date().toISOString();
    for (let start = 0; start < PROFILES; start += BATCH) {
      const partners = [];
      const profiles = [];
      for (let i = start; i < start + BATCH; i++) {
        const partnerId = randomUUID();
        const id = randomUUID();
        partners.push({ id: partnerId, name: `Swept ${i}`, created_at: now });
        profiles.push({ ...template, id, partner_id: partnerId, name: `Profile ${i}`, name_key: `profile ${i}`, refresh_token_sealed: box.seal(tokens[i], refreshTokenAad(id)), last_checked_at: checkedAt, token_used_at: checkedAt });
      }
      await database.db.insertInto('partners').values(partners).execute();
      await database.db.insertInto('app_profiles').values(profiles).execute();
    }
    // The template has done its part; and the sweep the first start ran (over no profile) is forgotten, so the
    // next start sweeps at once rather than an interval later.
    await database.db.deleteFrom('app_profiles').where('id', '=', seedProfileId).execute();
    await database.db.updateTable('job_leases').set({ last_run_at: null }).where('name', '=', 'app-profile-health').execute();
    await database.db.deleteFrom('jobs').where('kind', '=', 'app-profile-health').execute();
  }

  it('runs again within one job interval of the restart and ends with every profile checked, none expired', async () => {
    const { client } = await signUpPartner(portal!.url);
    const created = await new AdminBrowser(client).createProfile('Seed', { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
    expect(created.result, created.location).toBe('created');
    const slow = await fetch(`${portal!.sandboxUrl}/_sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenantId: CONTOSO.id, target: 'token', delayMs: 150, requests: 5_000 }) });
    expect(slow.status).toBeLessThan(300);
    await portal!.stop('SIGTERM');
    const checkedAt = new Date(Date.now() - 86_400_000).toISOString();
    await seed(created.profileId!, checkedAt);
    const seededAt = new Date().toISOString();

    // The sweep starts with the portal; killed once the token endpoint has seen 650 refreshes (the first batch stored).
    portal = await startPortalProcess(env);
    const deadline = Date.now() + 40_000;
    while (((await tokenUsage()).tokenRequests ?? 0) < BATCH + 150) {
      expect(Date.now(), 'the sweep did not get going').toBeLessThan(deadline);
      await sleep(50);
    }
    await portal!.stop('SIGKILL');
    const storedAtKill = await checkedSince(seededAt);
    expect(storedAtKill).toBeLessThan(PROFILES);
    // The killed sweep is one queue job, running under the dead instance's lease, its first batch checkpointed.
    const [killed] = await sweepJobs();
    expect(killed).toMatchObject({ state: 'running', attempts: 1 });
    expect(killed.lease_owner).not.toBeNull();
    expect(JSON.parse(killed.checkpoint!)).toMatchObject({ afterId: expect.any(String), checked: storedAtKill });

    const restartedAt = Date.now();
    portal = await startPortalProcess(env);
    const restartMs = Date.now() - restartedAt;
    let ranAgainInMs = 0;
    let finishedInMs = 0;
    for (;;) {
      // Counted from when the restarted portal answers: how long tsx takes to load it is not the job queue's doing.
      expect(Date.now() - restartedAt - restartMs, `the sweep did not finish within one interval of the restart: ${JSON.stringify(await sweepJobs())}`).toBeLessThan(INTERVAL_MS);
      const jobs = await sweepJobs();
      expect(jobs, 'one sweep job: the restart added none').toHaveLength(1);
      if (jobs[0].lease_owner !== killed.lease_owner) ranAgainInMs ||= Date.now() - restartedAt;
      if (jobs[0].state === 'done') break;
      await sleep(100);
    }
    finishedInMs = Date.now() - restartedAt;
    // The same job went on from its checkpoint: a second attempt, nothing left held.
    expect(await sweepJobs()).toEqual([expect.objectContaining({ id: killed.id, state: 'done', attempts: 2, lease_owner: null, checkpoint: null, last_error: null })]);

    const profiles = await database.db.selectFrom('app_profiles').select(['status', 'status_code', 'last_checked_at', 'last_check_error_at']).execute();
    expect(profiles).toHaveLength(PROFILES);
    expect(profiles.filter((p) => p.status !== 'active' || p.status_code !== null || p.last_check_error_at !== null)).toEqual([]);
    expect(profiles.filter((p) => p.last_checked_at! <= seededAt)).toEqual([]);
    // Exactly the profiles whose refresh the killed sweep had not stored were refreshed after the restart.
    expect((await tokenUsage()).refreshes).toBe(PROFILES - storedAtKill);
    expect(await database.db.selectFrom('audit_events').select('id').where('action', '=', 'app_profile.expired').execute()).toEqual([]);
    expect(await sweepLease()).toMatchObject({ holder: null });
    console.log(
      `[${engine}] killed with ${storedAtKill} of ${PROFILES} checks stored; restart took ${restartMs} ms; the sweep's job was taken up again ${ranAgainInMs} ms ` +
        `and finished ${finishedInMs} ms after the restart began, refreshing the other ${PROFILES - storedAtKill} (interval ${INTERVAL_MS / 1000} s, job lease ${LEASE_SECONDS} s)`,
    );
  }, withProcessStarts(2, 90_000));
});
