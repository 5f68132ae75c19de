import type { Db } from '../db/database';

/** Microsoft Graph's throttling window: resource units are counted per app, per tenant, per 10 seconds. */
export const BUDGET_WINDOW_MS = 10_000;
/** The smallest of Graph's per-tenant budgets (tenants under 50 users); safe for every tenant size. */
export const DEFAULT_UNITS_PER_WINDOW = 3_500;

/**
 * Graph's resource-unit cost of one request (reference §6): `GET users` 2, `GET me/memberOf` 2,
 * `GET groups/{id}/members` 3, `transitiveMembers` 5, other requests 1; `$select` takes one off; minimum 1.
 */
export function graphRequestCost(url: URL, method: string): number {
  const path = url.pathname.replace(/^.*?\/v1\.0/, '').replace(/\/+$/, '');
  let cost = 1;
  if (method === 'GET') {
    if (/^\/users$/.test(path) || /^\/(me|users\/[^/]+)\/memberOf$/.test(path)) cost = 2;
    else if (/^\/groups\/[^/]+\/members$/.test(path)) cost = 3;
    else if (/^\/groups\/[^/]+\/transitiveMembers$/.test(path)) cost = 5;
  }
  if (url.searchParams.has('$select')) cost -= 1;
  return Math.max(1, cost);
}

export type GraphBudget = ReturnType<typeof createGraphBudget>;

/**
 * A per-tenant resource-unit budget shared by every portal instance through the `graph_budget` table.
 * A reservation is one conditional UPDATE: it either starts a new window or adds to the current one while
 * the sum stays within the limit, so two instances can never both spend the last units.
 */
export function createGraphBudget(db: Db, options: { unitsPerWindow?: number; sleep?: (ms: number) => Promise<void>; now?: () => number } = {}) {
  const limit = options.unitsPerWindow ?? DEFAULT_UNITS_PER_WINDOW;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  const known = new Set<string>();

  /** Tries to spend `cost` units now; answers 0 on success, else how long to wait for the next window. */
  async function tryReserve(key: string, cost: number): Promise<number> {
    const at = now();
    const windowStartMs = Math.floor(at / BUDGET_WINDOW_MS) * BUDGET_WINDOW_MS;
    const windowStart = new Date(windowStartMs).toISOString();
    if (!known.has(key)) {
      await db.insertInto('graph_budget').values({ key, window_start: new Date(0).toISOString(), units: 0 }).onConflict((oc) => oc.column('key').doNothing()).execute();
      known.add(key);
    }
    const result = await db
      .updateTable('graph_budget')
      .set((eb) => ({
        units: eb.case().when('window_start', '<', windowStart).then(cost).else(eb('units', '+', cost)).end(),
        window_start: eb.case().when('window_start', '<', windowStart).then(windowStart).else(eb.ref('window_start')).end(),
      }))
      .where('key', '=', key)
      .where((eb) => eb.or([eb('window_start', '<', windowStart), eb(eb('units', '+', cost), '<=', limit)]))
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 1) return 0;
    return windowStartMs + BUDGET_WINDOW_MS - at + 5;
  }

  return {
    limit,
    /** Waits until `cost` units of the tenant's budget are reserved (at most until the window ends, then again). */
    async reserve(key: string, cost: number): Promise<void> {
      const units = Math.min(Math.max(1, cost), limit);
      for (;;) {
        const wait = await tryReserve(key, units);
        if (wait === 0) return;
        await sleep(wait);
      }
    },
  };
}

export const budgetKey = (cloud: string, tenantId: string) => `${cloud}:${tenantId.toLowerCase()}`;
