import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpPartner, type ApiClient } from '../support/api-client';
import { AdminBrowser, CONTOSO, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { startTestPortal, type TestPortal } from '../support/portal';

/**
 * Issue 9, "PostgreSQL restarted while it serves load": the whole PostgreSQL server is stopped and started again
 * (pg_ctlcluster) while a portal serves signed-in requests and a group member download runs. Every answer during
 * the outage is 200 or 503 DATABASE_UNAVAILABLE (never 500, no crash), the same portal answers 200 again without
 * a restart, and the download, whose attempt died with the database, is taken up again by the queue and finishes.
 *
 * Restarting the server breaks every other connection to it, so this file is not in the integration project: it
 * runs alone, after it (`vitest.serial.config.ts`, the last step of `npm test`). It always starts PostgreSQL
 * again and waits until it accepts connections, whatever happens.
 */
const OUTAGE_MS = 4_000;
const LEASE_SECONDS = 4;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The local cluster `pg_ctlcluster` controls, when TEST_DATABASE_URL points at this machine and this user may control it. */
function localCluster(): { version: string; port: string } | { skip: string } {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) return { skip: 'TEST_DATABASE_URL is not set' };
  const { hostname, port } = new URL(url);
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(hostname)) return { skip: `PostgreSQL at ${hostname} is not on this machine` };
  if (!existsSync('/usr/bin/pg_ctlcluster') || !existsSync('/etc/postgresql')) return { skip: 'pg_ctlcluster (postgresql-common) is not installed' };
  if (process.getuid?.() !== 0) return { skip: 'restarting PostgreSQL needs root' };
  const versions = readdirSync('/etc/postgresql');
  if (versions.length !== 1) return { skip: `expected one PostgreSQL version in /etc/postgresql, found ${versions.join(', ') || 'none'}` };
  return { version: versions[0], port: port || '5432' };
}

const cluster = localCluster();
if ('skip' in cluster) console.warn(`PostgreSQL restart test skipped: ${cluster.skip}`);

const pgctl = (action: 'stop' | 'start') => {
  if ('skip' in cluster) return;
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', cluster.version, 'main', action], { stdio: 'pipe', timeout: 60_000 });
};
const isReady = () => {
  if ('skip' in cluster) return true;
  try {
    execFileSync('pg_isready', ['-h', '127.0.0.1', '-p', cluster.port], { stdio: 'pipe', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
};
/** Starts PostgreSQL if it is down and waits until it accepts connections (at most 60 s). */
async function ensureRunning(): Promise<void> {
  if (isReady()) return;
  try {
    pgctl('start');
  } catch {
    // Already starting or started: pg_isready decides.
  }
  for (const until = Date.now() + 60_000; !isReady(); await sleep(250)) {
    if (Date.now() > until) throw new Error('PostgreSQL did not accept connections within 60 s of being started again');
  }
}

describe.skipIf('skip' in cluster)('PostgreSQL restarted while the portal serves signed-in requests', () => {
  let portal: TestPortal;
  let client: ApiClient;
  let groupId: string;

  beforeAll(async () => {
    portal = await startTestPortal('postgres', { TENANTGATE_JOB_LEASE_SECONDS: String(LEASE_SECONDS) }, { queueWorker: true });
    client = (await signUpPartner(portal.url)).client;
    const profileId = (await new AdminBrowser(client).createProfile('Contoso', { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' })).profileId!;
    const added = await client.post('/api/users', { signInType: 'microsoft365', emails: ['sales@contoso.com'], appProfileId: profileId, role: 'member' });
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    groupId = (added.body.added as { id: string }[])[0].id;
  }, 60_000);
  afterAll(async () => {
    await ensureRunning();
    await portal?.close();
  }, 90_000);

  const downloadJob = () => portal.services.db.selectFrom('jobs').selectAll().where('key', '=', `group-members:${groupId}`).executeTakeFirst();

  it('answers 200 or 503 DATABASE_UNAVAILABLE during the restart, 200 after it without a portal restart, and the queued download finishes', async () => {
    const waitForDownload = async (what: string, withinMs: number) => {
      for (const until = Date.now() + withinMs; (await downloadJob().catch(() => undefined))?.state !== 'done'; await sleep(200)) {
        expect(Date.now(), `${what}: ${JSON.stringify(await downloadJob())}`).toBeLessThan(until);
      }
    };
    await waitForDownload('the first download did not finish', 30_000);
    // Download again, its first Graph answer held 1.5 s: the answer arrives while the database is down.
    const slow = await fetch(`${portal.sandbox!.baseUrl}/_sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenantId: CONTOSO.id, delayMs: 1_500, requests: 1 }) });
    expect(slow.status).toBeLessThan(300);
    expect((await client.post(`/api/users/${groupId}/download-members`, {})).status).toBe(200);

    const answers = new Map<string, number>();
    let serving = true;
    const load = Promise.all(
      Array.from({ length: 4 }, async (_, n) => {
        while (serving) {
          const res = await client.get(n % 2 ? '/api/users?limit=5' : '/api/app-profiles');
          const key = `${res.status} ${res.body?.error?.code ?? ''}`.trim();
          answers.set(key, (answers.get(key) ?? 0) + 1);
          await sleep(20);
        }
      }),
    );
    let downAt = 0;
    let upAt = 0;
    try {
      await sleep(300);
      pgctl('stop');
      downAt = Date.now();
      await sleep(OUTAGE_MS);
    } finally {
      await ensureRunning();
      upAt = Date.now();
    }
    // The same portal, not restarted: serves 200 again once its pool has new connections.
    let recoveredInMs = 0;
    for (const until = Date.now() + 15_000; ; await sleep(100)) {
      if ((await client.get('/api/users?limit=5')).status === 200) {
        recoveredInMs = Date.now() - upAt;
        break;
      }
      expect(Date.now(), 'the portal did not answer 200 within 15 s of PostgreSQL accepting connections').toBeLessThan(until);
    }
    serving = false;
    await load;
    for (let i = 0; i < 20; i++) expect((await client.get('/api/app-profiles')).status).toBe(200);

    const seen = Object.fromEntries(answers);
    expect(Object.keys(seen).filter((k) => k !== '200' && k !== '503 DATABASE_UNAVAILABLE'), JSON.stringify(seen)).toEqual([]);
    expect(seen['503 DATABASE_UNAVAILABLE'] ?? 0, 'the outage was seen').toBeGreaterThan(0);
    expect((await fetch(`${portal.url}/readyz`)).status).toBe(200);

    // The download's attempt died with the database; the queue takes it up again once its lease lapsed.
    await waitForDownload('the download did not finish after the restart', 60_000);
    const job = await downloadJob();
    expect(job).toMatchObject({ state: 'done', lease_owner: null });
    expect(job!.attempts).toBeGreaterThanOrEqual(2);
    const members = await portal.services.db.selectFrom('group_members').select('member_object_id').where('group_user_id', '=', groupId).execute();
    expect(members).toHaveLength(2);
    console.log(
      `PostgreSQL down ${upAt - downAt} ms (stop, ${OUTAGE_MS} ms, start until pg_isready); answers during the run: ${JSON.stringify(seen)}; ` +
        `200 again ${recoveredInMs} ms after it accepted connections; the download finished on attempt ${job!.attempts}`,
    );
  }, 120_000);
});
