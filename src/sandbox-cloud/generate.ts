import type { Tenant } from './directory';

export interface GenerateOptions {
  users: number;
  groups: number;
  groupsPerUser: number;
  nesting: number;
  seed: number;
  password?: string;
}

const FIRST_NAMES = ['Avery', 'Blake', 'Casey', 'Dana', 'Emery', 'Finley', 'Harper', 'Jordan', 'Kai', 'Logan', 'Morgan', 'Noor', 'Parker', 'Quinn', 'Riley', 'Sage', 'Taylor', 'Uma', 'Val', 'Wren'];
const LAST_NAMES = ['Abbott', 'Baker', 'Chen', 'Diaz', 'Evans', 'Fischer', 'Garcia', 'Hughes', 'Ito', 'Jensen', 'Khan', 'Lopez', 'Miller', 'Nakamura', 'Olsen', 'Patel', 'Rossi', 'Smith', 'Tanaka', 'Weber'];

/** mulberry32: a tiny, fast deterministic PRNG (same seed, same tenant). */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hex8(random: () => number): string {
  return Math.floor(random() * 0x100000000).toString(16).padStart(8, '0');
}

/** A version-4-shaped GUID drawn from the PRNG. */
function deterministicGuid(random: () => number): string {
  const a = hex8(random);
  const b = hex8(random);
  const c = hex8(random);
  const d = hex8(random);
  const variant = ((parseInt(c[0], 16) & 0x3) | 0x8).toString(16);
  return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-${variant}${c.slice(1, 4)}-${c.slice(4)}${d}`;
}

/**
 * Adds synthetic users (`user{n}@{default domain}`, password `Passw0rd!{n}` unless given) and groups
 * (`Group {n}`), each user in `groupsPerUser` random groups, and chains of nested groups `nesting` deep.
 */
export function generateSynthetic(tenant: Tenant, options: GenerateOptions, salt = 0): void {
  const random = prng(options.seed * 7919 + salt);
  const domain = tenant.defaultDomain;
  const users = [];
  for (let n = 1; n <= options.users; n++) {
    const first = FIRST_NAMES[Math.floor(random() * FIRST_NAMES.length)];
    const last = LAST_NAMES[Math.floor(random() * LAST_NAMES.length)];
    const upn = `user${n}@${domain}`;
    users.push(
      tenant.addUser(
        { id: deterministicGuid(random), userPrincipalName: upn, displayName: `${first} ${last} ${n}`, givenName: first, surname: last, mail: upn, password: options.password ?? `Passw0rd!${n}` },
        false,
      ),
    );
  }
  const groups = [];
  for (let n = 1; n <= options.groups; n++) {
    groups.push(tenant.addGroup({ id: deterministicGuid(random), displayName: `Group ${n}`, mail: `group${n}@${domain}`, securityEnabled: true, mailEnabled: true }, false));
  }
  if (groups.length === 0) return;
  const perUser = Math.min(options.groupsPerUser, groups.length);
  for (const user of users) {
    for (let k = 0; k < perUser; k++) tenant.addMember(groups[Math.floor(random() * groups.length)], user, false);
  }
  // Nesting: chains g0 ⊃ g1 ⊃ … ⊃ g{nesting} over the first tenth of the groups.
  if (options.nesting > 0) {
    const chainLength = options.nesting + 1;
    const chains = Math.floor(Math.max(1, Math.floor(groups.length / 10)) / chainLength);
    for (let c = 0; c < chains; c++) {
      for (let k = 0; k < options.nesting; k++) tenant.addMember(groups[c * chainLength + k], groups[c * chainLength + k + 1], false);
    }
  }
}
