import type { AppProfileRow } from '../app-profiles/store';
import type { ProfileHealth } from '../app-profiles/health';
import { createGraphClient, type GraphClient } from '../microsoft/graph';
import type { MicrosoftSetup } from '../services';
import { budgetKey, graphRequestCost, type GraphBudget } from './budget';

export interface TenantGraphOptions {
  /** Attempts per request under 429/5xx before the error is passed on. */
  attempts?: number;
  /** `Prefer: odata.maxpagesize` for delta queries. */
  deltaPageSize?: number;
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
}

/**
 * A Graph client acting through an app profile's authorization that reserves each request's resource
 * units from the tenant's shared budget, retries included (the budget lives in the fetch layer, so paging
 * and delta links are covered without special cases). Retries of 429/5xx with `Retry-After` are the
 * shared Graph client's; a sync allows more of them, so a 429/503 storm slows it down instead of failing it.
 */
export function createTenantGraph(
  deps: { microsoft: MicrosoftSetup; health: ProfileHealth; budget: GraphBudget },
  row: AppProfileRow,
  options: TenantGraphOptions = {},
): GraphClient {
  const attempts = options.attempts ?? 10;
  const baseFetch = options.fetch ?? globalThis.fetch;
  const key = budgetKey(row.cloud, row.tenant_id);
  const pageSize = options.deltaPageSize ?? 999;

  // Every call is one attempt: the Graph client calls again for a retry, which is charged again.
  const budgetedFetch: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const headers = new Headers(init?.headers);
    if (/\/delta$/.test(url.pathname)) headers.set('prefer', `odata.maxpagesize=${pageSize}`);
    await deps.budget.reserve(key, graphRequestCost(url, (init?.method ?? 'GET').toUpperCase()));
    return baseFetch(url, { ...init, headers });
  };

  return createGraphClient({
    graphBase: deps.microsoft.endpoints[row.cloud].graph,
    accessToken: () => deps.health.accessToken(row),
    fetch: budgetedFetch,
    maxRetries: attempts - 1,
    sleep: options.sleep,
  });
}
