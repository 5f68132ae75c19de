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

/** The budget is kept per second; any 10 s span, wherever it starts, lies within 11 consecutive seconds. */
const SLOT_MS = 1_000;
const SLOTS = BUDGET_WINDOW_MS / SLOT_MS + 1;

/** Units spent per second, oldest first, the last entry being second `last` (seconds since the epoch). */
interface Slots {
  last: number;
  counts: number[];
}

/** The saved slots moved on to second `now` (never back: another instance's clock may run a little ahead). */
export function slotsAt(saved: string | null, now: number): Slots {
  const empty = (): number[] => new Array<number>(SLOTS).fill(0);
  if (!saved) return { last: now, counts: empty() };
  const slots = JSON.parse(saved) as Slots;
  const shift = now - slots.last;
  if (shift <= 0) return slots;
  if (shift >= SLOTS) return { last: now, counts: empty() };
  return { last: now, counts: [...slots.counts.slice(shift), ...new Array<number>(shift).fill(0)] };
}

/**
 * Spends `cost` in the newest second if the last 11 seconds then hold at most `limit`; otherwise answers how
 * many seconds must pass before enough of the oldest spending drops out.
 */
export function spend(slots: Slots, cost: number, limit: number): { slots: Slots } | { waitSlots: number } {
  let held = slots.counts.reduce((a, b) => a + b, 0);
  if (held + cost <= limit) return { slots: { last: slots.last, counts: [...slots.counts.slice(0, -1), slots.counts.at(-1)! + cost] } };
  for (let wait = 1; wait <= SLOTS; wait++) {
    held -= slots.counts[wait - 1];
    if (held + cost <= limit) return { waitSlots: wait };
  }
  return { waitSlots: SLOTS };
}

/**
 * A per-tenant resource-unit budget shared by every portal instance through the `graph_budget` table. Graph
 * counts units per 10 seconds, but where its window starts is unknown: the budget keeps the units spent in each
 * of the last 11 seconds and admits a request only while they sum to at most the limit, so no span of 10 seconds
 * ever holds more. A reservation is a compare-and-set of the tenant's row: of two instances spending the same
 * units, one writes and the other reads again, so they never both spend the last units.
 */
export function createGraphBudget(db: Db, options: { unitsPerWindow?: number; sleep?: (ms: number) => Promise<void>; now?: () => number } = {}) {
  const limit = options.unitsPerWindow ?? DEFAULT_UNITS_PER_WINDOW;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  const known = new Set<string>();

  /** Tries to spend `cost` units now; answers 0 on success, -1 when another instance wrote first, else how long to wait. */
  async function tryReserve(key: string, cost: number): Promise<number> {
    if (!known.has(key)) {
      await db.insertInto('graph_budget').values({ key, window_start: new Date(0).toISOString(), units: 0, slots: null }).onConflict((oc) => oc.column('key').doNothing()).execute();
      known.add(key);
    }
    const at = now();
    const second = Math.floor(at / SLOT_MS);
    const row = await db.selectFrom('graph_budget').select('slots').where('key', '=', key).executeTakeFirstOrThrow();
    const outcome = spend(slotsAt(row.slots, second), cost, limit);
    if ('waitSlots' in outcome) return (second + outcome.waitSlots) * SLOT_MS - at + 5;
    const result = await db
      .updateTable('graph_budget')
      .set({ slots: JSON.stringify(outcome.slots), units: outcome.slots.counts.reduce((a, b) => a + b, 0), window_start: new Date(outcome.slots.last * SLOT_MS).toISOString() })
      .where('key', '=', key)
      .where((eb) => (row.slots === null ? eb('slots', 'is', null) : eb('slots', '=', row.slots)))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1 ? 0 : -1;
  }

  return {
    limit,
    /** Waits until `cost` units of the tenant's budget are reserved. */
    async reserve(key: string, cost: number): Promise<void> {
      const units = Math.min(Math.max(1, cost), limit);
      for (;;) {
        const wait = await tryReserve(key, units);
        if (wait === 0) return;
        if (wait > 0) await sleep(wait);
      }
    },
  };
}

export const budgetKey = (cloud: string, tenantId: string) => `${cloud}:${tenantId.toLowerCase()}`;
