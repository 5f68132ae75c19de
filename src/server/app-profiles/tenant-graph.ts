import type { MicrosoftSetup } from '../core-types';
import type { Metrics } from '../metrics/index';
import { graphBaseFor, type Cloud } from '../microsoft/clouds';
import { createGraphClient, type GraphClient, type GraphError } from '../microsoft/graph';
import { isGraphRefusal } from './errors';
import { budgetKey, graphRequestCost, type GraphBudget } from './graph-budget';
import type { AppProfileRow } from './store';

/**
 * How patiently a caller waits on Graph. `interactive`: a person is waiting (sign-in, adding users,
 * browsing, "Check now", the consent round trip), so few retries and short `Retry-After`s.
 * `background`: jobs (directory sync, member downloads) ride out a 429/503 storm instead of failing.
 */
export type GraphPolicy = 'interactive' | 'background';

const POLICIES: Record<GraphPolicy, { attempts: number; maxRetryAfterSeconds: number }> = {
  interactive: { attempts: 4, maxRetryAfterSeconds: 10 },
  background: { attempts: 10, maxRetryAfterSeconds: 60 },
};

/** What the factory needs from the profile's authorization (health.ts provides it). */
export interface ProfileTokens {
  accessToken(row: AppProfileRow): Promise<string>;
  /** Called when Graph refused a data call (401/403); decides the profile's state and throws the error to answer. */
  confirmAfterRefusal(row: AppProfileRow, error: GraphError): Promise<never>;
}

export interface TenantGraphOptions {
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
  /** `Prefer: odata.maxpagesize` for delta queries. */
  deltaPageSize?: number;
}

export type TenantGraphs = ReturnType<typeof createTenantGraphs>;

/**
 * The one way to reach Microsoft Graph for a tenant. Every request reserves its resource units from the
 * tenant's shared budget (retries included: the budget lives in the fetch layer, so paging and delta links
 * are covered), retries follow a named policy, and a 401/403 goes through the one mapping to profile states.
 */
export function createTenantGraphs(deps: { microsoft: Pick<MicrosoftSetup, 'endpoints'>; tokens: ProfileTokens; budget: GraphBudget; metrics?: Pick<Metrics, 'graphRequest' | 'graphBudget'> }, options: TenantGraphOptions = {}) {
  const baseFetch = options.fetch ?? globalThis.fetch;
  const pageSize = options.deltaPageSize ?? 999;

  function client(cloud: Cloud, tenantId: string, graphHost: string | null, policy: GraphPolicy, accessToken: () => Promise<string> | string): GraphClient {
    const key = budgetKey(cloud, tenantId);
    // Every call is one attempt: the Graph client calls again for a retry, which is charged again.
    const budgetedFetch: typeof fetch = async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const headers = new Headers(init?.headers);
      if (/\/delta$/.test(url.pathname)) headers.set('prefer', `odata.maxpagesize=${pageSize}`);
      const cost = graphRequestCost(url, (init?.method ?? 'GET').toUpperCase());
      const reserveStarted = Date.now();
      await deps.budget.reserve(key, cost);
      deps.metrics?.graphBudget(cloud, cost, Date.now() - reserveStarted);
      try {
        const response = await baseFetch(url, { ...init, headers });
        deps.metrics?.graphRequest(cloud, response.status);
        return response;
      } catch (error) {
        deps.metrics?.graphRequest(cloud, 0);
        throw error;
      }
    };
    const { attempts, maxRetryAfterSeconds } = POLICIES[policy];
    return createGraphClient({
      // The tenant's own Graph host (DoD tenants: dod-graph.microsoft.us), mapped to this deployment's base URL.
      graphBase: graphBaseFor(deps.microsoft.endpoints[cloud], graphHost),
      accessToken,
      fetch: budgetedFetch,
      maxRetries: attempts - 1,
      maxRetryAfterSeconds,
      sleep: options.sleep,
    });
  }

  return {
    /** A client acting through the profile's authorization. Prefer `run`, which also maps a refusal. */
    for: (row: AppProfileRow, policy: GraphPolicy): GraphClient => client(row.cloud, row.tenant_id, row.graph_host, policy, () => deps.tokens.accessToken(row)),

    /** A client for a token that belongs to no profile yet (the consent round trip), under the tenant's budget. */
    forToken: (cloud: Cloud, tenantId: string, accessToken: string, policy: GraphPolicy, graphHost: string | null = null): GraphClient =>
      client(cloud, tenantId, graphHost, policy, () => accessToken),

    /**
     * Runs Graph work through the profile. A 401/403 never expires the profile by itself: the refresh that
     * follows decides (ProfileExpiredError on the token endpoint's verdict, else GraphRefusedError with the
     * profile left Active and a failed check recorded). Other errors pass unchanged.
     */
    async run<T>(row: AppProfileRow, policy: GraphPolicy, work: (graph: GraphClient) => Promise<T>): Promise<T> {
      try {
        return await work(client(row.cloud, row.tenant_id, row.graph_host, policy, () => deps.tokens.accessToken(row)));
      } catch (error) {
        if (!isGraphRefusal(error)) throw error;
        return deps.tokens.confirmAfterRefusal(row, error);
      }
    },
  };
}
