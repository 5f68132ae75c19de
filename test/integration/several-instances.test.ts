import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandboxCloud, type SandboxCloud } from '../../src/sandbox-cloud/index';
import type { RunningPortal } from '../../src/server/start';
import { openDatabase } from '../../src/server/db/database';
import { ApiClient, signUpPartner } from '../support/api-client';
import { CONTOSO, followCallback, NORTHWIND, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { SandboxUserAgent } from '../support/sandbox-user-agent';
import { newKey, sharedStorage, startInstance, type SharedStorage } from '../support/instances';
import { freePort, portalEnv, PROCESS_START_LIMIT_MS, runScript, withProcessStarts } from '../support/portal-process';

/** Several portal instances on one PostgreSQL (and one shared sandbox cloud), as behind a load balancer. */
describe.runIf(process.env.TEST_DATABASE_URL)('several instances on one PostgreSQL', () => {
  let sandbox: SandboxCloud;
  let storage: SharedStorage;
  const instances: RunningPortal[] = [];
  /** The partner signed up on A (by the second test), signed in in its browser. */
  let partnerOnA: ApiClient | undefined;
  const keys = newKey('k1');
  // One PUBLIC_URL for all: the load balancer's address.
  const publicUrl = 'http://portal.example.test';

  /** Where an instance listens (its PUBLIC_URL is the load balancer's). */
  const addressOf = (instance: RunningPortal) => `http://127.0.0.1:${(instance.app.server.address() as AddressInfo).port}`;
  /** The same browser (cookies, CSRF token) reaching another instance through the load balancer. */
  const sameBrowserAt = (client: ApiClient, url: string) => {
    const other = new ApiClient(url);
    for (const [k, v] of client.jar) other.jar.set(k, v);
    other.csrfToken = client.csrfToken;
    return other;
  };
  beforeAll(async () => {
    sandbox = await startSandboxCloud({ port: 0 });
    storage = await sharedStorage('postgres');
  });
  afterAll(async () => {
    for (const instance of instances) await instance.close().catch(() => undefined);
    await storage?.drop();
    await sandbox?.close();
  });

  it('three instances started at once on an empty database all come up, and it is migrated once', async () => {
    const env = { ...storage.env, TENANTGATE_SANDBOX_URL: sandbox.baseUrl, TENANTGATE_ENCRYPTION_KEYS: keys, PUBLIC_URL: publicUrl };
    const started = await Promise.allSettled([startInstance(env), startInstance(env), startInstance(env)]);
    for (const s of started) if (s.status === 'fulfilled') instances.push(s.value);
    expect(started.map((s) => (s.status === 'rejected' ? String(s.reason) : 'up'))).toEqual(['up', 'up', 'up']);
    const { db, close } = openDatabase({ databaseUrl: storage.env.DATABASE_URL, dataDir: storage.dataDir });
    try {
      const applied = await db.selectFrom('kysely_migration' as never).select('name' as never).execute();
      expect(applied.length).toBe(new Set(applied.map((r) => JSON.stringify(r))).size);
    } finally {
      await close();
    }
    for (const instance of instances) expect((await fetch(`${addressOf(instance)}/readyz`)).status).toBe(200);
  }, 60_000);

  it('share one app registration at the shared sandbox: an authorization begun on A finishes on B', async () => {
    const { client: onA } = await signUpPartner(addressOf(instances[0]));
    partnerOnA = onA;
    const start = await onA.post('/api/app-profiles', { name: 'Contoso via A', cloud: 'global' });
    expect(start.status).toBe(201);
    const { db, close } = openDatabase({ databaseUrl: storage.env.DATABASE_URL, dataDir: storage.dataDir });
    try {
      expect(await db.selectFrom('oauth_flows').select('id').where('used_at', 'is', null).execute()).toHaveLength(1);
    } finally {
      await close();
    }
    const redirect = await new SandboxUserAgent().authorize(start.body.authorizationUrl, { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
    const onB = sameBrowserAt(onA, addressOf(instances[1]));
    const outcome = await followCallback(onB, redirect);
    expect(outcome.result).toBe('created');
    const clientIdOf = (url: string) => new URL(url).searchParams.get('client_id');
    const onC = await sameBrowserAt(onA, addressOf(instances[2])).post('/api/app-profiles', { name: 'Begun on C', cloud: 'global' });
    expect(clientIdOf(onC.body.authorizationUrl)).toBe(clientIdOf(start.body.authorizationUrl));
    // A session made on one instance works on the others, and all see the profile.
    for (const instance of instances) {
      const there = sameBrowserAt(onA, addressOf(instance));
      const profiles = await there.get('/api/app-profiles');
      expect(profiles.status).toBe(200);
      expect(profiles.body.items.map((p: { name: string; status: string }) => [p.name, p.status])).toEqual([['Contoso via A', 'active']]);
    }
    const checked = await sameBrowserAt(onA, addressOf(instances[2])).post(`/api/app-profiles/${outcome.profileId}/check`);
    expect(checked.body.status).toBe('active');
  }, 60_000);

  it('a consent link made on A is opened and completed on C, and A sees the profile it created', async () => {
    const onA = partnerOnA!;
    const made = await onA.post('/api/consent-links', { name: 'Northwind via link', cloud: 'global', email: NORTHWIND.admin });
    expect(made.status).toBe(201);
    // The link carries the load balancer's address; the Global Administrator's browser reaches C through it.
    expect(made.body.url).toMatch(new RegExp(`^${publicUrl}/consent/`));
    const linkPath = new URL(made.body.url).pathname;
    const ga = new ApiClient(addressOf(instances[2]));
    const page = await ga.get(linkPath);
    expect(page.status).toBe(200);
    const go = await ga.get(`${linkPath}/continue`);
    expect(go.status).toBe(303);
    const redirect = await new SandboxUserAgent().authorize(go.headers.get('location')!, { email: NORTHWIND.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
    expect(redirect.origin).toBe(publicUrl);
    const callback = await ga.get(`${redirect.pathname}${redirect.search}`);
    expect(callback.status).toBe(303);
    const done = await ga.get(callback.headers.get('location')!);
    expect(done.body).toContain('Your tenant is now connected as “Northwind via link”');
    const links = (await onA.get('/api/consent-links')).body.links;
    expect(links).toEqual([expect.objectContaining({ id: made.body.id, state: 'used', outcome: 'created' })]);
    const profiles = (await onA.get('/api/app-profiles')).body.items.map((p: { name: string; status: string }) => [p.name, p.status]);
    expect(profiles.sort()).toEqual([['Contoso via A', 'active'], ['Northwind via link', 'active']]);
  }, 60_000);

  /** The sandbox's counters of one tenant: Graph requests and resource units served, token requests, refreshes. */
  const usageOf = async (tenantId: string) =>
    (await (await fetch(`${sandbox.baseUrl}/_sandbox/requests?tenantId=${tenantId}`)).json()) as { requests: number; resourceUnits: number; overBudget?: number; tokenRequests?: number; refreshes?: number };
  const sandboxControl = (path: string, body: unknown) => fetch(`${sandbox.baseUrl}/_sandbox${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  /** Each distinct `last_run_at` of a job seen while polling `job_leases` is one run (a won claim). */
  async function watchRuns(jobs: string[], forMs: number): Promise<Map<string, number[]>> {
    const { db, close } = openDatabase({ databaseUrl: storage.env.DATABASE_URL, dataDir: storage.dataDir });
    const runs = new Map(jobs.map((job) => [job, new Set<string>()]));
    try {
      for (const until = Date.now() + forMs; Date.now() < until; await new Promise((resolve) => setTimeout(resolve, 100))) {
        for (const row of await db.selectFrom('job_leases').select(['name', 'last_run_at']).where('name', 'in', jobs).execute()) {
          if (row.last_run_at) runs.get(row.name)!.add(row.last_run_at);
        }
      }
    } finally {
      await close();
    }
    return new Map([...runs].map(([job, at]) => [job, [...at].map((t) => Date.parse(t)).sort((a, b) => a - b)]));
  }

  it('each scheduled job runs once per interval across three instances: every profile refreshed once per interval', async () => {
    const intervalMs = 3_000;
    const env = {
      ...storage.env,
      TENANTGATE_SANDBOX_URL: sandbox.baseUrl,
      TENANTGATE_ENCRYPTION_KEYS: keys,
      PUBLIC_URL: publicUrl,
      TENANTGATE_HEALTH_CHECK_INTERVAL_MINUTES: String(intervalMs / 60_000),
      TENANTGATE_DIRECTORY_SYNC_INTERVAL_MINUTES: String(intervalMs / 60_000),
    };
    // The profiles were checked when created: let that age past the sweep's "checked within half an interval".
    await new Promise((resolve) => setTimeout(resolve, intervalMs / 2));
    await sandboxControl('/requests/reset', {});
    const workers = await Promise.all([startInstance(env, { backgroundJobs: true }), startInstance(env, { backgroundJobs: true }), startInstance(env, { backgroundJobs: true })]);
    let runs: Map<string, number[]>;
    try {
      runs = await watchRuns(['app-profile-health', 'directory-sync'], 4 * intervalMs + 1_000);
    } finally {
      await Promise.all(workers.map((w) => w.close({ graceMs: 2_000 })));
    }
    const sweeps = runs.get('app-profile-health')!;
    const syncs = runs.get('directory-sync')!;
    const gaps = (at: number[]) => at.slice(1).map((t, i) => t - at[i]);
    console.log(`job runs over ${4 * intervalMs + 1_000} ms, interval ${intervalMs} ms: health sweeps ${sweeps.length} (gaps ${gaps(sweeps).join(', ')} ms), directory syncs ${syncs.length} (gaps ${gaps(syncs).join(', ')} ms)`);
    // Once per interval across the three: no two runs closer than the interval, and none missed by much.
    for (const at of [sweeps, syncs]) {
      expect(at.length).toBeGreaterThanOrEqual(4);
      expect(at.length).toBeLessThanOrEqual(5);
      for (const gap of gaps(at)) expect(gap).toBeGreaterThanOrEqual(intervalMs);
    }
    // The identity platform saw each profile refreshed exactly once per sweep, not once per instance.
    const contoso = await usageOf(CONTOSO.id);
    const northwind = await usageOf(NORTHWIND.id);
    console.log(`refreshes: Contoso ${contoso.refreshes}, Northwind ${northwind.refreshes} (token requests ${contoso.tokenRequests}, ${northwind.tokenRequests})`);
    // A sweep may start between the end of the watch and the instances' close (seen under load): at most one more.
    for (const usage of [contoso, northwind]) {
      expect(usage.refreshes).toBeGreaterThanOrEqual(sweeps.length);
      expect(usage.refreshes).toBeLessThanOrEqual(sweeps.length + 1);
      expect(usage.tokenRequests).toBe(usage.refreshes);
    }
    expect(contoso.refreshes).toBe(northwind.refreshes);
  }, 60_000);

  it('SIGKILL mid-job: after the lease lapses another instance takes the same queue job up once, and no lease stays stuck', async () => {
    const intervalMs = 12_000;
    const leaseSeconds = 6;
    const jobEnv = {
      TENANTGATE_SANDBOX_URL: sandbox.baseUrl,
      TENANTGATE_ENCRYPTION_KEYS: keys,
      PUBLIC_URL: publicUrl,
      TENANTGATE_HEALTH_CHECK_INTERVAL_MINUTES: String(intervalMs / 60_000),
      // Directory sync is not the job under test: not due during it.
      TENANTGATE_DIRECTORY_SYNC_INTERVAL_MINUTES: '60',
      TENANTGATE_JOB_LEASE_SECONDS: String(leaseSeconds),
    };
    const { db, close } = openDatabase({ databaseUrl: storage.env.DATABASE_URL, dataDir: storage.dataDir });
    const lease = () => db.selectFrom('job_leases').selectAll().where('name', '=', 'app-profile-health').executeTakeFirstOrThrow();
    const sweepJob = (id: string) => db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const sweepJobCount = async () => (await db.selectFrom('jobs').select('id').where('kind', '=', 'app-profile-health').execute()).length;
    const waitFor = async <T>(what: string, probe: () => Promise<T | undefined | false>, withinMs: number): Promise<T> => {
      for (const until = Date.now() + withinMs; ; await new Promise((resolve) => setTimeout(resolve, 100))) {
        const value = await probe();
        if (value) return value;
        if (Date.now() > until) throw new Error(`not within ${withinMs} ms: ${what}`);
      }
    };
    let victim: ReturnType<typeof runScript> | undefined;
    let taker: RunningPortal | undefined;
    try {
      await sandboxControl('/requests/reset', {});
      // Contoso's token endpoint answers the next refresh 503 "retry after 10 s": the victim's sweep waits there.
      expect((await sandboxControl('/faults', { tenantId: CONTOSO.id, target: 'token', status: 503, requests: 1, retryAfterSeconds: 10 })).status).toBe(204);
      const port = await freePort();
      victim = runScript('src/server/main.ts', { ...portalEnv(storage.dataDir, port, await freePort(), { ...storage.env, ...jobEnv }) });
      // Mid-job: Northwind refreshed (its write waits for the batch), Contoso waiting out the 503.
      await waitFor('the victim refreshed Northwind and met the fault on Contoso', async () => (await usageOf(NORTHWIND.id)).refreshes === 1 && (await usageOf(CONTOSO.id)).tokenRequests === 1, PROCESS_START_LIMIT_MS);
      // The sweep is a queue job the victim holds under its lease.
      const held = await db.selectFrom('jobs').selectAll().where('kind', '=', 'app-profile-health').where('state', '=', 'running').executeTakeFirstOrThrow();
      expect(held.lease_owner).not.toBeNull();
      const scheduled = await lease();
      const jobsBefore = await sweepJobCount();
      victim.child.kill('SIGKILL');
      await victim.exited;
      const killedAt = Date.now();
      expect(victim.output()).not.toContain('app profile health sweep finished');

      taker = await startInstance({ ...storage.env, ...jobEnv }, { backgroundJobs: true });
      let takeoverMs = 0;
      const takenOver = await waitFor('another instance took the job up and finished it', async () => {
        const row = await sweepJob(held.id);
        if (row.lease_owner !== held.lease_owner) takeoverMs ||= Date.now() - killedAt;
        return row.state === 'done' && row;
      }, 20_000);
      expect(takenOver).toMatchObject({ attempts: held.attempts + 1, lease_owner: null, last_error: null });
      const profiles = await db.selectFrom('app_profiles').select(['name', 'status', 'last_checked_at', 'last_check_error_message']).orderBy('name').execute();
      const contoso = await usageOf(CONTOSO.id);
      const northwind = await usageOf(NORTHWIND.id);
      console.log(`SIGKILL takeover: lease ${leaseSeconds} s, taken over ${takeoverMs} ms after the kill; refreshes Contoso ${contoso.refreshes}, Northwind ${northwind.refreshes}`);
      expect(takeoverMs).toBeLessThanOrEqual(leaseSeconds * 1000 + 2_500);
      for (const p of profiles) {
        expect(p).toMatchObject({ status: 'active', last_check_error_message: null });
        expect(Date.parse(p.last_checked_at!)).toBeGreaterThan(killedAt);
      }
      // Contoso refreshed once (by the taker); Northwind twice: the victim's refresh was never recorded (batch
      // written at its end), so the taker refreshed it again. Harmless (earlier refresh tokens stay valid), documented.
      expect(contoso.refreshes).toBe(1);
      expect(northwind.refreshes).toBe(2);
      // One run, not a run per tick: the schedule adds no job before its interval, and nothing holds it.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect(await lease()).toMatchObject({ last_run_at: scheduled.last_run_at, holder: null });
      expect(await sweepJobCount()).toBe(jobsBefore);
      expect(await sweepJob(held.id)).toMatchObject({ state: 'done', lease_owner: null });
      expect((await usageOf(CONTOSO.id)).refreshes).toBe(1);
    } finally {
      victim?.child.kill('SIGKILL');
      await taker?.close({ graceMs: 2_000 });
      await close();
    }
  }, withProcessStarts(1, 60_000));

  it("the per-tenant Graph budget holds across three instances: the sandbox refuses none of their requests for budget", async () => {
    const unitsPer10s = 40;
    const env = { ...storage.env, TENANTGATE_SANDBOX_URL: sandbox.baseUrl, TENANTGATE_ENCRYPTION_KEYS: keys, PUBLIC_URL: publicUrl, TENANTGATE_GRAPH_UNITS_PER_10S: String(unitsPer10s) };
    const hammering = await Promise.all([startInstance(env), startInstance(env), startInstance(env)]);
    try {
      const contosoId = ((await partnerOnA!.get('/api/app-profiles')).body.items as { id: string; name: string }[]).find((p) => p.name === 'Contoso via A')!.id;
      // Graph's own budget for the tenant, as the sandbox enforces it, is exactly the portal's.
      expect((await sandboxControl('/throttle', { tenantId: CONTOSO.id, resourceUnitsPer10s: unitsPer10s })).status).toBe(204);
      await sandboxControl('/requests/reset', {});
      const statuses = new Map<number, number>();
      const startedAt = Date.now();
      const runForMs = 21_000;
      // Four browsers per instance, each browsing the tenant's directory again as soon as it has an answer.
      await Promise.all(
        hammering.flatMap((instance) =>
          [1, 2, 3, 4].map(async () => {
            const browser = sameBrowserAt(partnerOnA!, addressOf(instance));
            while (Date.now() - startedAt < runForMs) {
              const res = await browser.get(`/api/app-profiles/${contosoId}/directory?type=user`);
              statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
            }
          }),
        ),
      );
      const tookMs = Date.now() - startedAt;
      const usage = await usageOf(CONTOSO.id);
      const windows = Math.ceil(tookMs / 10_000);
      console.log(`budget ${unitsPer10s} units/10 s, 3 instances x 4 browsers for ${tookMs} ms (${windows} windows): answers ${JSON.stringify(Object.fromEntries(statuses))}, Graph requests ${usage.requests}, units served ${usage.resourceUnits}, refused over budget ${usage.overBudget ?? 0}`);
      expect(usage.overBudget ?? 0).toBe(0);
      expect([...statuses.keys()]).toEqual([200]);
      // The browsers asked for more than the budget: it was what limited them (every window spent nearly whole).
      expect(usage.resourceUnits).toBeGreaterThanOrEqual(unitsPer10s * (windows - 1));
      expect(usage.resourceUnits).toBeLessThanOrEqual(unitsPer10s * (windows + 1));
    } finally {
      await sandboxControl('/throttle', { tenantId: CONTOSO.id, resourceUnitsPer10s: null });
      await Promise.all(hammering.map((instance) => instance.close({ graceMs: 2_000 })));
    }
  }, 60_000);
});
