/**
 * How long a restarted sandbox takes to load its state: a generated 100,000-user tenant (stored as its seed) and
 * 5,000 app profiles' worth of tokens (a refresh token, a browser session and a consent each), plus tenant changes.
 * Each load runs in a fresh process, as a restart does.   npx tsx test/bench/sandbox-state-load.ts
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFixture } from '../../src/sandbox-cloud/fixture';
import { openSandboxState } from '../../src/sandbox-cloud/open-state';

const PROFILES = 5000;
const TENANT = '0b1e5c1a-0000-4000-8000-00000000c001';
export const bigFixture = () =>
  parseFixture({
    tenants: [
      {
        id: TENANT,
        cloud: 'global',
        displayName: 'Big Corp',
        domains: [{ name: 'bigcorp.com' }],
        users: [{ userPrincipalName: 'admin@bigcorp.com', displayName: 'Big Admin', password: 'Passw0rd!', roles: ['Global Administrator'] }],
        generate: { users: 100_000, groups: 2000, groupsPerUser: 3, nesting: 2, seed: 42 },
      },
    ],
  });

/** Seeds a state folder with the tenant and PROFILES profiles' tokens, through the sandbox's own stores. */
export function seedBigState(dir: string): void {
  const { state, file } = openSandboxState({ stateDir: dir, fixture: bigFixture });
  const tenant = state.directory.byId(TENANT)!;
  for (let n = 0; n < PROFILES; n++) {
    const { clientId } = state.apps.register({ displayName: `Portal ${n}`, redirectUris: [`http://localhost:${3000 + n}/cb`] });
    const user = tenant.users[n + 1];
    state.consents.grantTenant(TENANT, clientId, ['User.Read.All', 'Group.Read.All']);
    state.sessions.signIn('global', undefined, { tenantId: TENANT, userId: user.id, authTimeMs: Date.now() });
    state.grants.issueRefreshToken({ cloud: 'global', clientId, tenantId: TENANT, userId: user.id, oidcScopes: ['openid', 'offline_access'], graphScopes: ['User.Read.All'], issuedMs: Date.now(), authTimeMs: Date.now() });
  }
  for (let n = 0; n < 200; n++) state.changeTenant({ op: 'addUser', tenantId: TENANT, user: { id: `0b1e5c1a-0000-4000-9000-${String(n).padStart(12, '0')}`, userPrincipalName: `added${n}@bigcorp.com`, displayName: `Added ${n}`, password: 'x' } });
  file!.close();
}

/** One load, in this process: milliseconds (wall clock and CPU) from opening the folder to a usable state. */
function loadOnce(dir: string): { ms: number; cpuMs: number } {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const { state, file, restored } = openSandboxState({ stateDir: dir, fixture: () => { throw new Error('a restored state does not read the fixture'); } });
  const elapsed = { ms: performance.now() - started, cpuMs: (process.cpuUsage(cpu).user + process.cpuUsage(cpu).system) / 1000 };
  if (!restored || state.directory.byId(TENANT)!.users.length !== 100_201) throw new Error('the state did not come back whole');
  file!.close();
  return elapsed;
}

if (process.argv[2] === '--load') {
  console.log(JSON.stringify(loadOnce(process.argv[3])));
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = mkdtempSync(path.join(tmpdir(), 'sandbox-state-bench-'));
  try {
    seedBigState(dir);
    const runs = [1, 2, 3].map(() => {
      const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--load', dir], { encoding: 'utf8' });
      return JSON.parse(out.trim().split('\n').at(-1)!) as { ms: number; cpuMs: number };
    });
    const median = (values: number[]) => Math.round([...values].sort((a, b) => a - b)[1]);
    console.log(
      `sandbox state load (100,000 users generated from a seed, ${PROFILES} profiles' tokens, 200 tenant changes): ` +
        `wall ${runs.map((r) => Math.round(r.ms)).join(', ')} ms (median ${median(runs.map((r) => r.ms))} ms), ` +
        `CPU median ${median(runs.map((r) => r.cpuMs))} ms`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
