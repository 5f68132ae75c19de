import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../src/server/db/database';
import { mapPool } from '../../src/server/jobs/pool';
import { signUpPartner } from '../support/api-client';
import { AdminBrowser, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { sharedStorage, startInstance } from '../support/instances';
import { postgresServerGiven, sharedInstanceEnv, startPortalProcesses } from './instances';
import { issueRefreshTokens, SCALE_TENANT, tokenClient, writeScaleFixture } from './refresh-tokens';
import { insertProfilesOfOwnPartners, processMemory, sandboxControl, startSandboxProcess } from './support';
import type { BenchRow } from './types';

/**
 * The health sweep at ten times today's size (issue 11): 50,000 active profiles (BENCH_PROFILES) on one
 * PostgreSQL, three portal instances in their own processes sharing it and one sandbox cloud (its own process).
 * One sweep interval runs; the sandbox's counters and the database show every profile refreshed exactly once,
 * and the sweep's wall time is compared with a bare script asking the sandbox for the same refreshes at the
 * same concurrency, in the same run.
 */
const PROFILES = Number(process.env.BENCH_PROFILES ?? 50_000);
const INSTANCES = 3;
/** The scheduled sweep's concurrency (its default); the bare script uses the same. */
const CONCURRENCY = 16;
/**
 * The sandbox keeps the 20 most recent refresh tokens per app and user; each profile's token is refreshed
 * twice by the baseline and once by the sweep, so a user's 5 profiles make 5 × (1 + 3) = 20 tokens, all valid.
 */
const PROFILES_PER_USER = 5;

export default async function severalInstancesBench(): Promise<BenchRow[]> {
  if (!postgresServerGiven()) return [];
  const users = Math.ceil(PROFILES / PROFILES_PER_USER);
  const dir = mkdtempSync(path.join(tmpdir(), 'tenantgate-bench-'));
  const fixturePath = writeScaleFixture(dir, users);
  const storage = await sharedStorage('postgres');
  const sandbox = await startSandboxProcess(fixturePath).catch(async (error: unknown) => {
    await storage.drop();
    throw error;
  });
  const shared = await sharedInstanceEnv(storage.env, sandbox.baseUrl);
  const setupPort = shared.setupPort;
  const env = {
    ...shared.env,
    // One sweep in the measured window: the next is a day away, and nothing else is due during it.
    TENANTGATE_HEALTH_CHECK_INTERVAL_MINUTES: String(24 * 60),
    TENANTGATE_DIRECTORY_SYNC_INTERVAL_MINUTES: String(24 * 60),
  };
  const control = sandboxControl(sandbox.baseUrl);
  try {
    const { refresh, tokens } = await seedProfiles(env, setupPort, sandbox.clouds.global.login);

    // Baseline: the same refreshes asked of the sandbox by a bare script, at the sweep's concurrency; once
    // before the sweep and once after (the same tokens: earlier ones stay valid), so a drift in the machine's
    // load hits both sides.
    const bare = async () => {
      const started = performance.now();
      await mapPool(tokens, CONCURRENCY, refresh);
      return performance.now() - started;
    };
    const bareBeforeMs = await bare();

    await control('POST', '/requests/reset', {});
    const { db, close } = openDatabase({ databaseUrl: storage.env.DATABASE_URL, dataDir: storage.dataDir });
    // The last sweep ran "just now", so none is due while the instances start (a start-up competes for the
    // CPU with the sweep); once all three serve, it ran a day ago: the next tick of one of them (≤ 30 s) runs it.
    const lastSweep = (at: Date) =>
      db.insertInto('job_leases').values({ name: 'app-profile-health', holder: null, lease_until: new Date(0).toISOString(), last_run_at: at.toISOString() }).onConflict((oc) => oc.column('name').doUpdateSet({ last_run_at: at.toISOString() })).execute();
    await lastSweep(new Date());
    // BENCH_PORTAL_NODE_ARGS, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`: a CPU profile of each instance.
    const instances = await startPortalProcesses(INSTANCES, env, process.env.BENCH_PORTAL_NODE_ARGS?.split(' ').filter(Boolean));
    let sweep: Awaited<ReturnType<typeof timeSweep>>;
    const peakRssMb: number[] = [];
    try {
      const dueSince = new Date(Date.now() - 24 * 3600_000);
      await lastSweep(dueSince);
      const since = new Date().toISOString();
      sweep = await timeSweep(db, since);
      // Past several ticks of all three: no instance adds the sweep again within the interval.
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      if ((await sweepJobs(db, since)).length !== 1) throw new Error('the sweep ran again within its interval');
      for (const instance of instances) peakRssMb.push(processMemory(instance.pid).peakRssMb);
    } finally {
      await Promise.all(instances.map((i) => i.stop()));
    }

    // Exactly once: the identity platform answered PROFILES refreshes, and every profile holds a rotated token
    // checked during the sweep. N refreshes covering N distinct profiles leaves none refreshed twice.
    const usage = await control<{ refreshes?: number; tokenRequests?: number }>('GET', `/requests?tenantId=${SCALE_TENANT.id}`);
    const profiles = await db
      .selectFrom('app_profiles')
      .select((eb) => [eb.fn.countAll<string>().as('all'), eb.fn.count<string>('id').filterWhere('token_used_at', '>=', sweep.startedAt).filterWhere('status', '=', 'active').as('refreshed')])
      .where('name', 'like', 'Profile %')
      .executeTakeFirstOrThrow();
    await close();
    const bareAfterMs = await bare();
    const baselineMs = (bareBeforeMs + bareAfterMs) / 2;
    const refreshed = Number(profiles.refreshed);
    console.log(`  sandbox: ${usage.refreshes} refreshes, ${usage.tokenRequests} token requests; database: ${refreshed} of ${profiles.all} profiles refreshed by the sweep`);
    const exactlyOnce = usage.refreshes === PROFILES && usage.tokenRequests === PROFILES && refreshed === PROFILES;
    const ratio = sweep.ms / baselineMs;
    const label = PROFILES.toLocaleString('en-US');
    return [
      { name: `bare script: ${label} refreshes at the sandbox, concurrency ${CONCURRENCY} (mean of before and after the sweep: ${(bareBeforeMs / 1000).toFixed(1)} s, ${(bareAfterMs / 1000).toFixed(1)} s)`, value: baselineMs / 1000, unit: 's', target: 'baseline', ok: true },
      { name: `health sweep over ${label} profiles, ${INSTANCES} instances on one PostgreSQL`, value: sweep.ms / 1000, unit: 's', target: '-', ok: true },
      { name: 'sweep / bare refreshes', value: ratio, unit: 'ratio', target: '≤ 1.3', ok: ratio <= 1.3 },
      { name: `profiles refreshed exactly once (sandbox refreshes ${usage.refreshes}, rotated in the database ${refreshed})`, value: exactlyOnce ? PROFILES : 0, unit: 'profiles', target: `= ${label}`, ok: exactlyOnce },
      { name: 'sweep runs in the interval', value: sweep.runs, unit: 'runs', target: '= 1', ok: sweep.runs === 1 },
      { name: `peak RSS of the instance that swept (largest of ${INSTANCES})`, value: Math.max(...peakRssMb), unit: 'MB', target: 'reported', ok: true },
      { name: 'peak RSS of an idle instance (smallest)', value: Math.min(...peakRssMb), unit: 'MB', target: 'reported', ok: true },
    ];
  } finally {
    sandbox.stop();
    await storage.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Seeds PROFILES active profiles, each of its own partner, each with its own refresh token issued to the
 * portal's app for one of the tenant's users (PROFILES_PER_USER per user), last checked a day ago. A portal
 * in this process migrates the database, registers the shared app and has the tenant's administrator consent
 * for the organization; then each user signs in once and refreshes to get the rest of its tokens.
 */
async function seedProfiles(env: Record<string, string>, port: number, login: string) {
  const portal = await startInstance(env, { port });
  try {
    const { db, secretBox } = portal.services;
    const client = tokenClient(login, portal.services.microsoft.apps.global!, `${env.PUBLIC_URL}/auth/microsoft/callback`);
    const owner = await signUpPartner(portal.url, 'Bench Partner');
    const created = await new AdminBrowser(owner.client).createProfile('Seed', { email: SCALE_TENANT.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
    if (created.result !== 'created') throw new Error(`the seed profile was not created: ${created.location}`);
    const seed = await db.selectFrom('app_profiles').selectAll().where('id', '=', created.profileId!).executeTakeFirstOrThrow();

    const tokens = await issueRefreshTokens(client, PROFILES, PROFILES_PER_USER, CONCURRENCY);
    await insertProfilesOfOwnPartners(db, secretBox, seed, tokens, new Date(Date.now() - 86400_000).toISOString());
    // The seed profile is not part of the sweep measured.
    await db.updateTable('app_profiles').set({ last_checked_at: new Date(Date.now() + 86400_000).toISOString() }).where('id', '=', seed.id).execute();
    return { refresh: client.refresh, tokens };
  } finally {
    await portal.close();
  }
}

/** The health sweep's queue jobs added since `since` (the schedule adds one per interval). */
function sweepJobs(db: ReturnType<typeof openDatabase>['db'], since: string) {
  return db.selectFrom('jobs').select(['id', 'state', 'attempts', 'created_at']).where('kind', '=', 'app-profile-health').where('created_at', '>=', since).execute();
}

/**
 * Waits for the sweep's run, a queue job: added by one instance's schedule tick, claimed by one worker, done.
 * Answers its wall time from the job's creation to the poll (every 100 ms) that sees it done, and how many
 * sweep jobs were added meanwhile (1: one run in the interval).
 */
async function timeSweep(db: ReturnType<typeof openDatabase>['db'], since: string): Promise<{ ms: number; runs: number; startedAt: string }> {
  for (const deadline = Date.now() + 60 * 60_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 100))) {
    const jobs = await sweepJobs(db, since);
    const done = jobs.find((j) => j.state === 'done');
    if (done) return { ms: Date.now() - Date.parse(done.created_at), runs: jobs.length, startedAt: done.created_at };
    const failed = jobs.find((j) => j.state === 'failed');
    if (failed) throw new Error('the sweep job failed');
  }
  throw new Error('the sweep did not finish within an hour');
}
