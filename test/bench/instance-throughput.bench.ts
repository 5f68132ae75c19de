import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { signUpPartner } from '../support/api-client';
import { sharedStorage, startInstance } from '../support/instances';
import { SAMPLE_FIXTURE_PATH } from '../../src/sandbox-cloud/index';
import { postgresServerGiven, sharedInstanceEnv, startPortalProcesses, type PortalInstance } from './instances';
import { hammer, type Load } from './read-paths/load';
import { startSandboxProcess } from './support';
import type { BenchRow } from './types';

/**
 * API throughput of one and of two portal instances (each its own process) on one PostgreSQL (issue 11):
 * signed-in `GET /api/app-profiles` (5,000 profiles, first page of 500) and `GET /api/users` (100,000 users,
 * first page of 200) with 64 autocannon connections against one instance, then split 32 + 32 over two.
 * One then two, twice, alternately; req/s are means, p99 the worse of the two rounds (and of the instances).
 * On 2 cores the second instance competes with the first, PostgreSQL and the load generator: see
 * docs/deploying.md for what the ratio means on a larger machine.
 */
const PATHS = ['/api/app-profiles', '/api/users'];
const CONNECTIONS = 64;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const PROFILES = 5_000;
const USERS = 100_000;

export default async function instanceThroughputBench(): Promise<BenchRow[]> {
  if (!postgresServerGiven()) return [];
  const storage = await sharedStorage('postgres');
  let sandbox: Awaited<ReturnType<typeof startSandboxProcess>> | undefined;
  let instances: PortalInstance[] = [];
  try {
    // Instances behind one load balancer share the sandbox cloud, as they would share Microsoft.
    sandbox = await startSandboxProcess(SAMPLE_FIXTURE_PATH);
    const shared = await sharedInstanceEnv(storage.env, sandbox.baseUrl);
    const env = { ...shared.env, TENANTGATE_RATE_LIMIT_PASSWORD_PER_MINUTE: '100000', TENANTGATE_RATE_LIMIT_ANONYMOUS_PER_MINUTE: '100000' };
    const cookie = await seed(env, shared.setupPort);
    instances = await startPortalProcesses(2, env);
    const [first, second] = instances;

    for (const path of PATHS) {
      await hammer(first.url, path, { cookie, seconds: 1 });
      await hammer(second.url, path, { cookie, seconds: 1 });
    }
    const rows: BenchRow[] = [];
    for (const path of PATHS) {
      const one: Load[] = [];
      const two: Load[] = [];
      for (let round = 0; round < 2; round++) {
        one.push(checked(await hammer(first.url, path, { cookie, connections: CONNECTIONS, seconds: SECONDS }), path));
        const split = await Promise.all([first, second].map((i) => hammer(i.url, path, { cookie, connections: CONNECTIONS / 2, seconds: SECONDS })));
        two.push({ requestsPerSecond: split[0].requestsPerSecond + split[1].requestsPerSecond, p99Ms: Math.max(split[0].p99Ms, split[1].p99Ms), non2xx: split[0].non2xx + split[1].non2xx, errors: split[0].errors + split[1].errors });
        checked(two.at(-1)!, path);
      }
      const mean = (loads: Load[]) => loads.reduce((sum, l) => sum + l.requestsPerSecond, 0) / loads.length;
      const worstP99 = (loads: Load[]) => Math.max(...loads.map((l) => l.p99Ms));
      rows.push(
        { name: `GET ${path}: one instance, ${CONNECTIONS} connections`, value: mean(one), unit: 'req/s', target: 'reported', ok: true },
        { name: `GET ${path}: one instance p99`, value: worstP99(one), unit: 'ms', target: 'reported', ok: true },
        { name: `GET ${path}: two instances, ${CONNECTIONS / 2} connections each`, value: mean(two), unit: 'req/s', target: 'reported', ok: true },
        { name: `GET ${path}: two instances p99`, value: worstP99(two), unit: 'ms', target: 'reported', ok: true },
        { name: `GET ${path}: two instances / one`, value: mean(two) / mean(one), unit: 'ratio', target: 'reported (2 cores here)', ok: true },
      );
    }
    return rows;
  } finally {
    await Promise.all(instances.map((i) => i.stop()));
    sandbox?.stop();
    await storage.drop();
  }
}

/**
 * Migrates and seeds the database from a portal in this process, closed before the instances start: one
 * partner with 100,000 local users and 5,000 app profiles. Answers the owner's session cookie (sessions are
 * in the database, so it works on every instance).
 */
async function seed(env: Record<string, string>, port: number): Promise<string> {
  const portal = await startInstance(env, { port });
  try {
    const owner = await signUpPartner(portal.url, 'Bench Partner');
    const { db, secretBox } = portal.services;
    const at = (i: number) => new Date(Date.now() - i * 1000).toISOString();
    for (let start = 0; start < USERS; start += 2_000) {
      const users = Array.from({ length: Math.min(2_000, USERS - start) }, (_, k) => {
        const i = start + k;
        const email = `user${String(i).padStart(6, '0')}@bench-partner.test`;
        return { id: randomUUID(), partner_id: owner.partnerId, email, email_key: email, display_name: `Bench User ${i}`, password_hash: null, role: i % 10 === 0 ? ('administrator' as const) : ('member' as const), is_owner: 0, sign_in_type: 'local' as const, kind: 'user' as const, status: 'active' as const, app_profile_id: null, created_at: at(i), updated_at: at(i) };
      });
      await db.insertInto('users').values(users).execute();
    }
    for (let start = 0; start < PROFILES; start += 1_000) {
      const profiles = Array.from({ length: Math.min(1_000, PROFILES - start) }, (_, k) => {
        const i = start + k;
        const name = `Tenant ${String(i).padStart(4, '0')}`;
        // Sealed for real: an instance's start-up opens stored secrets to check its keys.
        const id = randomUUID();
        return {
          id, partner_id: owner.partnerId, name, name_key: name.toLowerCase(), cloud: 'global' as const, graph_host: 'graph.microsoft.com', tenant_id: randomUUID(),
          tenant_name: `${name} Ltd`, tenant_domain: `tenant${i}.example`, authorized_by_upn: `admin@tenant${i}.example`, authorized_by_oid: randomUUID(),
          granted_scopes: JSON.stringify(['User.Read.All', 'Group.Read.All', 'offline_access']), status: 'active' as const, status_code: null, status_message: null, status_fix: null,
          refresh_token_sealed: secretBox.seal('not-a-token', `app-profile:${id}:refresh-token`), refresh_token_key_id: secretBox.currentKeyId, authorized_at: at(i), token_used_at: at(i), last_checked_at: at(i),
          last_check_error_at: null, last_check_error_message: null, created_at: at(i), updated_at: at(i),
        };
      });
      await db.insertInto('app_profiles').values(profiles).execute();
    }
    // As autovacuum leaves a table in service: statistics and visibility map current (index-only counts).
    await sql`VACUUM ANALYZE users, app_profiles`.execute(db);
    return owner.client.cookie!;
  } finally {
    await portal.close();
  }
}

function checked(load: Load, what: string): Load {
  if (load.non2xx > 0 || load.errors > 0) throw new Error(`${what}: ${load.non2xx} non-2xx answers, ${load.errors} errors under load`);
  return load;
}
