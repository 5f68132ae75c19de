import { inMemoryOnly, type StateSink } from './state-sink';

/** The consent store as the state folder keeps it: each map as [key, scopes] pairs. */
export interface ConsentSnapshot {
  tenantGrants: [string, string[]][];
  userGrants: [string, string[]][];
  blocked: [string, string[]][];
}

/**
 * Consent grants per tenant and app: a tenant-wide grant (made by a Global Administrator) and per-user grants
 * (a user consenting for themselves to scopes that need no admin). Both persist until revoked.
 * An empty set still means "consented" (an app that asked only for sign-in scopes).
 */
export class ConsentStore {
  private readonly tenantGrants = new Map<string, Set<string>>();
  private readonly userGrants = new Map<string, Set<string>>();
  /** A tenant's app consent policy may exclude permissions: consent then grants all but those. */
  private readonly blocked = new Map<string, Set<string>>();

  constructor(private readonly sink: StateSink = inMemoryOnly) {}

  setBlockedScopes(tenantId: string, scopes: Iterable<string>): void {
    this.blocked.set(tenantId, new Set(scopes));
    this.save();
  }

  snapshot(): ConsentSnapshot {
    const pairs = (map: Map<string, Set<string>>): [string, string[]][] => [...map].map(([key, scopes]) => [key, [...scopes]]);
    return { tenantGrants: pairs(this.tenantGrants), userGrants: pairs(this.userGrants), blocked: pairs(this.blocked) };
  }

  restore(snapshot: ConsentSnapshot): void {
    const fill = (map: Map<string, Set<string>>, pairs: [string, string[]][]) => pairs.forEach(([key, scopes]) => map.set(key, new Set(scopes)));
    fill(this.tenantGrants, snapshot.tenantGrants);
    fill(this.userGrants, snapshot.userGrants);
    fill(this.blocked, snapshot.blocked);
  }

  private save(): void {
    this.sink.setMeta('consents', this.snapshot());
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
    addAll(this.tenantGrants, `${tenantId}|${clientId}`, this.allowed(tenantId, scopes));
    this.save();
  }

  grantUser(tenantId: string, clientId: string, userId: string, scopes: Iterable<string>): void {
    addAll(this.userGrants, `${tenantId}|${clientId}|${userId}`, this.allowed(tenantId, scopes));
    this.save();
  }

  private allowed(tenantId: string, scopes: Iterable<string>): string[] {
    const blocked = this.blocked.get(tenantId);
    return [...scopes].filter((s) => !blocked?.has(s));
  }

  /** Takes permissions out of an app's grants in a tenant (an administrator removing them in Entra); the grants stay. */
  removeScopes(tenantId: string, clientId: string, scopes: Iterable<string>): void {
    const gone = new Set([...scopes].map((s) => s.toLowerCase()));
    const prefix = `${tenantId}|${clientId}`;
    for (const map of [this.tenantGrants, this.userGrants]) {
      for (const [key, granted] of map) {
        if (key !== prefix && !key.startsWith(`${prefix}|`)) continue;
        for (const scope of [...granted]) if (gone.has(scope.toLowerCase())) granted.delete(scope);
      }
    }
    this.save();
  }

  /** Removes the consent of one app (or of every app) in a tenant, tenant-wide and per user. Answers how many grants went. */
  revoke(tenantId: string, clientId?: string): number {
    let removed = 0;
    const prefix = clientId ? `${tenantId}|${clientId}` : `${tenantId}|`;
    for (const map of [this.tenantGrants, this.userGrants]) {
      for (const key of [...map.keys()]) {
        if (key === prefix || key.startsWith(clientId ? `${prefix}|` : prefix)) {
          map.delete(key);
          removed++;
        }
      }
    }
    this.save();
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
