import { inMemoryOnly, type StateSink } from './state-sink';

/** The three kinds of consent record: a tenant-wide grant, one user's own grant, a tenant's blocked scopes. */
type ConsentKind = 'tenant' | 'user' | 'blocked';

/** One consent record as the state folder keeps it (table `consents`, one row per record). */
export interface ConsentRow {
  kind: ConsentKind;
  /** `tenantId|clientId` (tenant), `tenantId|clientId|userId` (user) or `tenantId` (blocked). */
  key: string;
  scopes: string[];
}

/** The consent store as state files of schema 1 kept it: one snapshot of every map, rewritten on each change. */
export interface ConsentSnapshot {
  tenantGrants: [string, string[]][];
  userGrants: [string, string[]][];
  blocked: [string, string[]][];
}

/** The rows of a schema-1 snapshot (used once, when such a state file is opened). */
export function consentRowsOfSnapshot(snapshot: ConsentSnapshot): ConsentRow[] {
  const rows = (kind: ConsentKind, pairs: [string, string[]][]) => pairs.map(([key, scopes]): ConsentRow => ({ kind, key, scopes }));
  return [...rows('tenant', snapshot.tenantGrants), ...rows('user', snapshot.userGrants), ...rows('blocked', snapshot.blocked)];
}

/** The state folder's row key of a consent record. */
export function consentRowKey(row: Pick<ConsentRow, 'kind' | 'key'>): string {
  return `${row.kind}:${row.key}`;
}

/**
 * Consent grants per tenant and app: a tenant-wide grant (made by a Global Administrator) and per-user grants
 * (a user consenting for themselves to scopes that need no admin). Both persist until revoked.
 * An empty set still means "consented" (an app that asked only for sign-in scopes).
 * Each change writes only the record it changed (one row), so many consents cost no more per change than one.
 */
export class ConsentStore {
  private readonly maps: Record<ConsentKind, Map<string, Set<string>>> = { tenant: new Map(), user: new Map(), blocked: new Map() };
  private readonly tenantGrants = this.maps.tenant;
  private readonly userGrants = this.maps.user;
  /** A tenant's app consent policy may exclude permissions: consent then grants all but those. */
  private readonly blocked = this.maps.blocked;

  constructor(private readonly sink: StateSink = inMemoryOnly) {}

  setBlockedScopes(tenantId: string, scopes: Iterable<string>): void {
    this.blocked.set(tenantId, new Set(scopes));
    this.save('blocked', tenantId);
  }

  restore(rows: readonly ConsentRow[]): void {
    for (const row of rows) this.maps[row.kind].set(row.key, new Set(row.scopes));
  }

  /** Writes the one record that changed. */
  private save(kind: ConsentKind, key: string): void {
    const scopes = this.maps[kind].get(key);
    if (scopes) this.sink.put('consents', consentRowKey({ kind, key }), { kind, key, scopes: [...scopes] } satisfies ConsentRow);
    else this.sink.remove('consents', consentRowKey({ kind, key }));
  }

  hasConsent(tenantId: string, clientId: string, userId: string): boolean {
    return this.tenantGrants.has(`${tenantId}|${clientId}`) || this.userGrants.has(`${tenantId}|${clientId}|${userId}`);
  }

  /** Graph scopes the app may use on behalf of this user. */
  consentedScopes(tenantId: string, clientId: string, userId: string): Set<string> {
    const tenantWide = this.tenantGrants.get(`${tenantId}|${clientId}`) ?? new Set<string>();
    const own = this.userGrants.get(`${tenantId}|${clientId}|${userId}`) ?? new Set<string>();
    return new Set([...tenantWide, ...own]);
  }

  tenantScopes(tenantId: string, clientId: string): Set<string> {
    return this.tenantGrants.get(`${tenantId}|${clientId}`) ?? new Set();
  }

  grantTenant(tenantId: string, clientId: string, scopes: Iterable<string>): void {
    const key = `${tenantId}|${clientId}`;
    addAll(this.tenantGrants, key, this.allowed(tenantId, scopes));
    this.save('tenant', key);
  }

  grantUser(tenantId: string, clientId: string, userId: string, scopes: Iterable<string>): void {
    const key = `${tenantId}|${clientId}|${userId}`;
    addAll(this.userGrants, key, this.allowed(tenantId, scopes));
    this.save('user', key);
  }

  private allowed(tenantId: string, scopes: Iterable<string>): string[] {
    const blocked = this.blocked.get(tenantId);
    return [...scopes].filter((s) => !blocked?.has(s));
  }

  /** Takes permissions out of an app's grants in a tenant (an administrator removing them in Entra); the grants stay. */
  removeScopes(tenantId: string, clientId: string, scopes: Iterable<string>): void {
    const gone = new Set([...scopes].map((s) => s.toLowerCase()));
    const prefix = `${tenantId}|${clientId}`;
    for (const kind of ['tenant', 'user'] as const) {
      for (const [key, granted] of this.maps[kind]) {
        if (key !== prefix && !key.startsWith(`${prefix}|`)) continue;
        for (const scope of [...granted]) if (gone.has(scope.toLowerCase())) granted.delete(scope);
        this.save(kind, key);
      }
    }
  }

  /** Removes the consent of one app (or of every app) in a tenant, tenant-wide and per user. Answers how many grants went. */
  revoke(tenantId: string, clientId?: string): number {
    let removed = 0;
    const prefix = clientId ? `${tenantId}|${clientId}` : `${tenantId}|`;
    for (const kind of ['tenant', 'user'] as const) {
      for (const key of [...this.maps[kind].keys()]) {
        if (key === prefix || key.startsWith(clientId ? `${prefix}|` : prefix)) {
          this.maps[kind].delete(key);
          this.save(kind, key);
          removed++;
        }
      }
    }
    return removed;
  }

  clear(): void {
    this.tenantGrants.clear();
    this.userGrants.clear();
    this.blocked.clear();
  }
}

function addAll(map: Map<string, Set<string>>, key: string, scopes: Iterable<string>): void {
  const set = map.get(key) ?? new Set<string>();
  for (const scope of scopes) set.add(scope);
  map.set(key, set);
}
