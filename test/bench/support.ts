import { spawn } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { Db } from '../../src/server/db/database';
import type { AppProfileRow } from '../../src/server/app-profiles/store';
import type { SecretBox } from '../../src/server/security/secret-box';
import { SAMPLE_PASSWORD } from '../support/microsoft-round-trip';

/** Shared pieces of the sso and sync benchmarks. */

export const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * p) - 1))];
};

/** A tenant with one Global Administrator (`admin@{domain}`, password Passw0rd!) and generated users and groups. */
export function generatedTenant(id: string, name: string, domain: string, generate: { users: number; groups: number; groupsPerUser: number; nesting: number; seed: number }) {
  return {
    id,
    cloud: 'global' as const,
    displayName: name,
    domains: [
      { name: `${domain.split('.')[0]}.onmicrosoft.com`, isInitial: true },
      { name: domain, isDefault: true },
    ],
    users: [{ userPrincipalName: `admin@${domain}`, displayName: 'Bench Admin', mail: `admin@${domain}`, password: SAMPLE_PASSWORD, roles: ['Global Administrator'] }],
    groups: [],
    // One password for every generated user, so any of them can sign in.
    generate: { ...generate, password: SAMPLE_PASSWORD },
  };
}

export interface SandboxMeter {
  /** The sandbox's origin (`http://127.0.0.1:PORT`); set once the portal started it. */
  origin: string | null;
  /** Wall time during which at least one request to the sandbox was in flight (body read included), ms. */
  readonly busyMs: number;
  readonly requests: number;
  /** Answers to sandbox requests by status. */
  readonly statuses: Map<number, number>;
  restore(): void;
}

const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * Wraps `globalThis.fetch` (the portal and its sandbox run in this process, and the portal's Graph, token
 * and key-set clients take `globalThis.fetch` when they are created, so install this before starting the
 * portal). Requests to the sandbox's origin are timed from the call until their body is fully read (the body
 * is buffered here and handed on in a new Response); overlapping requests count once (union of intervals).
 */
export function installSandboxMeter(): SandboxMeter {
  const original = globalThis.fetch;
  let active = 0;
  let since = 0;
  let busy = 0;
  let requests = 0;
  const statuses = new Map<number, number>();
  const meter: SandboxMeter = {
    origin: null,
    get busyMs() {
      return active > 0 ? busy + (performance.now() - since) : busy;
    },
    get requests() {
      return requests;
    },
    statuses,
    restore() {
      globalThis.fetch = original;
    },
  };
  const begin = () => {
    if (active++ === 0) since = performance.now();
  };
  const end = () => {
    if (--active === 0) busy += performance.now() - since;
  };
  // The token requests go over node:http (microsoft/form-post.ts): timed from their start until the request closes.
  const onRequestStart = ({ request }: { request: ClientRequest }) => {
    if (!meter.origin || `${request.protocol}//${String(request.getHeader('host'))}` !== meter.origin) return;
    requests++;
    begin();
    request.once('response', (response) => statuses.set(response.statusCode ?? 0, (statuses.get(response.statusCode ?? 0) ?? 0) + 1));
    request.once('close', end);
  };
  diagnostics.subscribe('http.client.request.start', onRequestStart as (message: unknown) => void);
  const restoreFetch = meter.restore;
  meter.restore = () => {
    restoreFetch();
    diagnostics.unsubscribe('http.client.request.start', onRequestStart as (message: unknown) => void);
  };
  globalThis.fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = input instanceof Request ? input.url : String(input);
    if (!meter.origin || !url.startsWith(meter.origin)) return original(input, init);
    requests++;
    begin();
    try {
      const res = await original(input, init);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const body = NULL_BODY.has(res.status) ? null : await res.arrayBuffer();
      const copy = new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
      Object.defineProperty(copy, 'url', { value: res.url });
      return copy;
    } finally {
      end();
    }
  };
  return meter;
}

/** The sandbox's control endpoints (throws on an error answer). */
export function sandboxControl(baseUrl: string) {
  return async <T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${baseUrl}/_sandbox${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    if (res.status >= 300) throw new Error(`sandbox ${method} ${path}: ${res.status} ${await res.text()}`);
    return (res.status === 204 ? null : await res.json()) as T;
  };
}

export type Clouds = Record<'global' | 'usgov', { login: string; graph: string }>;

/**
 * Starts `src/sandbox-cloud/cli.ts` with the fixture in its own process (as Graph is remote to the portal)
 * and waits until it listens.
 */
export async function startSandboxProcess(fixturePath: string): Promise<{ baseUrl: string; clouds: Clouds; pid: number; stop(): void }> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/sandbox-cloud/cli.ts'], {
    // In memory: every run starts from this fixture, not from what an earlier run left behind.
    env: { ...process.env, TENANTGATE_SANDBOX_PORT: String(port), TENANTGATE_SANDBOX_FIXTURE: fixturePath, TENANTGATE_SANDBOX_STATE: 'memory' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stop = () => void child.kill('SIGKILL');
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('sandbox process did not start in 60 s')), 60_000);
      child.once('exit', (code) => reject(new Error(`sandbox process exited with ${code}`)));
      child.stdout!.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('listening at')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const baseUrl = `http://127.0.0.1:${port}`;
    const clouds = (await (await fetch(`${baseUrl}/_sandbox/clouds`)).json()) as Clouds;
    return { baseUrl, clouds, pid: child.pid!, stop };
  } catch (error) {
    stop();
    throw error;
  }
}

export function processMemory(pid: number): { rssMb: number; peakRssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
}


/**
 * One active profile per refresh token, each of its own partner (a partner connects a tenant once), copied from
 * `seed` with the token sealed to its row, last checked and refreshed at `checkedAt`: due for the sweep.
 */
export async function insertProfilesOfOwnPartners(db: Db, box: SecretBox, seed: AppProfileRow, tokens: readonly string[], checkedAt: string): Promise<void> {
  for (let start = 0; start < tokens.length; start += 1000) {
    const partners = [];
    const profiles = [];
    for (let i = start; i < Math.min(start + 1000, tokens.length); i++) {
      const partnerId = randomUUID();
      const id = randomUUID();
      partners.push({ id: partnerId, name: `Bench ${i}`, created_at: checkedAt });
      profiles.push({ ...seed, id, partner_id: partnerId, name: `Profile ${i}`, name_key: `profile ${i}`, refresh_token_sealed: box.seal(tokens[i], `app-profile:${id}:refresh-token`), last_checked_at: checkedAt, token_used_at: checkedAt });
    }
    await db.insertInto('partners').values(partners).execute();
    await db.insertInto('app_profiles').values(profiles).execute();
  }
}
