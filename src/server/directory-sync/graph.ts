import type { AppProfileRow } from '../app-profiles/store';
import type { ProfileHealth } from '../app-profiles/health';
import { createGraphClient, type GraphClient } from '../microsoft/graph';
import type { MicrosoftSetup } from '../services';
import { budgetKey, graphRequestCost, type GraphBudget } from './budget';

const RETRYABLE = new Set([429, 502, 503, 504]);
const MAX_RETRY_AFTER_MS = 60_000;

export interface TenantGraphOptions {
  /** Attempts per request under 429/5xx before the error is passed on. */
  attempts?: number;
  /** `Prefer: odata.maxpagesize` for delta queries. */
  deltaPageSize?: number;
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
}

/**
 * A Graph client acting through an app profile's authorization that (1) reserves the request's resource
 * units from the tenant's shared budget before every request, retries included, and (2) retries throttled
 * and unavailable answers itself, honouring `Retry-After`, so a 429/503 storm slows a sync down instead of
 * failing it. Both live in the fetch layer, so paging and delta links are covered without special cases.
 */
export function createTenantGraph(
  deps: { microsoft: MicrosoftSetup; health: ProfileHealth; budget: GraphBudget },
  row: AppProfileRow,
  options: TenantGraphOptions = {},
): GraphClient {
  const attempts = options.attempts ?? 10;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const baseFetch = options.fetch ?? globalThis.fetch;
  const key = budgetKey(row.cloud, row.tenant_id);
  const pageSize = options.deltaPageSize ?? 999;

  const budgetedFetch: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = (init?.method ?? 'GET').toUpperCase();
    const headers = new Headers(init?.headers);
    if (/\/delta$/.test(url.pathname)) headers.set('prefer', `odata.maxpagesize=${pageSize}`);
    const cost = graphRequestCost(url, method);
    for (let attempt = 1; ; attempt++) {
      await deps.budget.reserve(key, cost);
      const response = await baseFetch(url, { ...init, headers, signal: AbortSignal.timeout(30_000) });
      if (!RETRYABLE.has(response.status) || attempt >= attempts) return response;
      const retryAfter = Number(response.headers.get('retry-after'));
      const wait = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : Math.min(30_000, 250 * 2 ** attempt);
      if (wait > MAX_RETRY_AFTER_MS) return response;
      await response.arrayBuffer().catch(() => undefined);
      await sleep(wait);
    }
  };

  return createGraphClient({
    graphBase: deps.microsoft.endpoints[row.cloud].graph,
    accessToken: () => deps.health.accessToken(row),
    fetch: budgetedFetch,
    maxRetries: 1,
    sleep,
  });
}
