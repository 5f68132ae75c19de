/**
 * Graph traffic per tenant: request / resource-unit counters, forced throttling and faults set through the
 * control endpoints, and the standing budget (resource units per app per tenant per 10 s, as Graph enforces).
 */
import { inMemoryOnly, type StateSink } from '../state-sink';

/** A token-endpoint fault: an error status and/or a delay before the answer (delay alone: answered normally, late). */
type TokenFault = { remaining: number; status?: number; retryAfterSeconds: number; delayMs?: number };
/** A Graph fault: an error status, a reset connection, and/or a delay before the answer. */
export type GraphFault = { remaining: number; status?: number; retryAfterSeconds: number; reset?: boolean; delayMs?: number };

/** Throttle and fault settings not yet used up, and standing budgets, as the state folder keeps them. */
export interface PendingTraffic {
  forcedThrottle: [string, { remaining: number; retryAfterSeconds: number }][];
  faults: [string, GraphFault][];
  tokenFaults: [string, TokenFault][];
  budgets: [string, number][];
}

export interface TrafficUsage {
  requests: number;
  resourceUnits: number;
  /** Requests refused with 429 because the app had spent the tenant's resource-unit budget of the window. */
  overBudget?: number;
  /** Token-endpoint requests naming the tenant in the path (faults included). */
  tokenRequests?: number;
  /** Refresh-token grants of the tenant answered with tokens. */
  refreshes?: number;
}

/** `delayMs`: answer only after that long; `reset`: drop the connection without an answer. */
export type Admission =
  | { ok: true; delayMs?: number }
  | { ok: false; status: number; code: string; message: string; retryAfterSeconds?: number; delayMs?: number; reset?: boolean };

const WINDOW_MS = 10_000;

/** Graph's directory budget by tenant size (users): under 50, 50–500, over 500. */
export function standardBudget(userCount: number): number {
  if (userCount < 50) return 3500;
  if (userCount <= 500) return 5000;
  return 8000;
}

export class GraphTraffic {
  private readonly usage = new Map<string, TrafficUsage>();
  private readonly forcedThrottle = new Map<string, { remaining: number; retryAfterSeconds: number }>();
  private readonly faults = new Map<string, GraphFault>();
  private readonly budgets = new Map<string, number>();
  private readonly windows = new Map<string, { startMs: number; used: number }>();
  /** Faults of the token endpoint (requests naming the tenant in the path): an identity-platform outage. */
  private readonly tokenFaults = new Map<string, TokenFault>();

  constructor(private readonly sink: StateSink = inMemoryOnly) {}

  pending(): PendingTraffic {
    const live = <T extends { remaining: number }>(map: Map<string, T>): [string, T][] => [...map].filter(([, v]) => v.remaining > 0);
    return { forcedThrottle: live(this.forcedThrottle), faults: live(this.faults), tokenFaults: live(this.tokenFaults), budgets: [...this.budgets] };
  }

  restore(saved: PendingTraffic): void {
    saved.forcedThrottle.forEach(([k, v]) => this.forcedThrottle.set(k, v));
    saved.faults.forEach(([k, v]) => this.faults.set(k, v));
    saved.tokenFaults.forEach(([k, v]) => this.tokenFaults.set(k, v));
    saved.budgets.forEach(([k, v]) => this.budgets.set(k, v));
  }

  private save(): void {
    this.sink.setMeta('traffic', this.pending());
  }

  usageOf(tenantId: string): TrafficUsage {
    return this.usage.get(tenantId) ?? { requests: 0, resourceUnits: 0 };
  }

  allUsage(): Map<string, TrafficUsage> {
    return this.usage;
  }

  /** Counts a token-endpoint request naming the tenant; `refreshed`: a refresh-token grant answered with tokens. */
  countToken(tenantId: string, what: 'request' | 'refreshed'): void {
    const usage = this.usage.get(tenantId) ?? { requests: 0, resourceUnits: 0 };
    this.usage.set(tenantId, usage);
    if (what === 'request') usage.tokenRequests = (usage.tokenRequests ?? 0) + 1;
    else usage.refreshes = (usage.refreshes ?? 0) + 1;
  }

  throttleNext(tenantId: string, requests: number, retryAfterSeconds: number): void {
    this.forcedThrottle.set(tenantId, { remaining: requests, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterSeconds)) });
    this.save();
  }

  setBudget(tenantId: string, resourceUnitsPer10s: number | null): void {
    if (resourceUnitsPer10s === null) this.budgets.delete(tenantId);
    else this.budgets.set(tenantId, resourceUnitsPer10s);
    for (const key of this.windows.keys()) if (key.startsWith(`${tenantId}|`)) this.windows.delete(key);
    this.save();
  }

  failNext(tenantId: string, fault: { status?: number; reset?: boolean; delayMs?: number }, requests: number, retryAfterSeconds = 1): void {
    this.faults.set(tenantId, { ...fault, remaining: requests, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterSeconds)) });
    this.save();
  }

  failNextTokenRequests(tenantId: string, fault: { status?: number; delayMs?: number }, requests: number, retryAfterSeconds = 1): void {
    this.tokenFaults.set(tenantId, { ...fault, remaining: requests, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterSeconds)) });
    this.save();
  }

  takeTokenFault(tenantId: string): { status?: number; retryAfterSeconds: number; delayMs?: number } | null {
    const fault = this.tokenFaults.get(tenantId);
    if (!fault || fault.remaining <= 0) return null;
    fault.remaining--;
    this.save();
    return fault;
  }

  /** Counts the request and decides whether Graph serves it, charging `units` when it does. */
  admit(tenantId: string, userCount: number, clientId: string, units: number, nowMs: number): Admission {
    const usage = this.usage.get(tenantId) ?? { requests: 0, resourceUnits: 0 };
    this.usage.set(tenantId, usage);
    usage.requests++;

    const fault = this.faults.get(tenantId);
    let delayMs: number | undefined;
    if (fault && fault.remaining > 0) {
      fault.remaining--;
      this.save();
      delayMs = fault.delayMs;
      if (fault.reset) return { ok: false, status: 0, code: 'connectionReset', message: '', reset: true, delayMs };
      if (fault.status === 503) return { ok: false, status: 503, code: 'serviceNotAvailable', message: 'Service unavailable. Please retry later.', retryAfterSeconds: fault.retryAfterSeconds, delayMs };
      if (fault.status) return { ok: false, status: fault.status, code: 'generalException', message: 'An unspecified error has occurred.', delayMs };
    }
    const forced = this.forcedThrottle.get(tenantId);
    if (forced && forced.remaining > 0) {
      forced.remaining--;
      this.save();
      return { ...tooMany(forced.retryAfterSeconds), delayMs };
    }
    const budget = this.budgets.get(tenantId) ?? standardBudget(userCount);
    const key = `${tenantId}|${clientId}`;
    let window = this.windows.get(key);
    if (!window || nowMs - window.startMs >= WINDOW_MS) {
      window = { startMs: nowMs, used: 0 };
      this.windows.set(key, window);
    }
    if (window.used + units > budget) {
      usage.overBudget = (usage.overBudget ?? 0) + 1;
      return { ...tooMany(Math.max(1, Math.ceil((window.startMs + WINDOW_MS - nowMs) / 1000))), delayMs };
    }
    window.used += units;
    usage.resourceUnits += units;
    return delayMs ? { ok: true, delayMs } : { ok: true };
  }

  resetUsage(tenantId?: string): void {
    if (tenantId) this.usage.delete(tenantId);
    else this.usage.clear();
  }

  reset(): void {
    this.usage.clear();
    this.forcedThrottle.clear();
    this.faults.clear();
    this.tokenFaults.clear();
    this.budgets.clear();
    this.windows.clear();
  }
}

function tooMany(retryAfterSeconds: number): Admission {
  return { ok: false, status: 429, code: 'TooManyRequests', message: 'Too many requests. Please retry after the time the Retry-After header names.', retryAfterSeconds };
}
