import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ApiClient, signUpPartner } from '../support/api-client';
import type { TestEngine } from '../support/engines';
import { AdminBrowser, CONTOSO, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { startTestPortal } from '../support/portal';
import { hashPassword } from '../../src/server/security/passwords';

/**
 * N signed-in Administrators of one partner for S seconds, each in a loop: list users or profiles (70%),
 * add or remove a local user (20%), rename its own app profile (5%), sign out and in again (5%).
 * Afterwards the stored state is compared with what the successful answers imply.
 */
export interface LoadOptions {
  engine: TestEngine;
  clients: number;
  seconds: number;
}

export interface RouteFigures {
  route: string;
  requests: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  statuses: Record<string, number>;
}

export interface LoadReport {
  options: LoadOptions;
  requests: number;
  perSecond: number;
  routes: RouteFigures[];
  /** Answers 500-599 other than the password-hashing back-pressure (503 SERVER_BUSY with Retry-After). */
  serverErrors: number;
  /** 503 SERVER_BUSY answers to sign-in: the client waited Retry-After and tried again. */
  busyRetried: number;
  /** What the final state gets wrong against the acknowledged answers (empty when consistent). */
  inconsistencies: string[];
}

const PASSWORD = 'violet-harbor-lantern-42';

interface Sample {
  route: string;
  ms: number;
  status: number;
  /** The error code of a refusal, so figures tell a 503 SERVER_BUSY from a 503 DATABASE_UNAVAILABLE. */
  code?: string;
}

class LoadClient {
  readonly api: ApiClient;
  /** Users this client added and saw acknowledged, by email, with the id the portal gave them. */
  readonly present = new Map<string, string>();
  /** Acknowledged removals. */
  readonly removed = new Set<string>();
  /** Added or removed without a clear answer: their final state is not asserted. */
  readonly unknown = new Set<string>();
  lastAcknowledgedName: string;
  private counter = 0;

  constructor(
    baseUrl: string,
    readonly index: number,
    readonly email: string,
    readonly profileId: string,
    private readonly record: (s: Sample) => void,
  ) {
    this.api = new ApiClient(baseUrl);
    this.lastAcknowledgedName = `Load profile ${index}`;
  }

  private async call(route: string, method: string, path: string, body?: unknown) {
    const started = performance.now();
    try {
      const res = await this.api.request(method, path, body);
      this.record({ route, ms: performance.now() - started, status: res.status, code: res.status >= 400 ? res.body?.error?.code : undefined });
      return res;
    } catch (error) {
      this.record({ route, ms: performance.now() - started, status: 0 });
      throw error;
    }
  }

  async step(): Promise<void> {
    const r = Math.random();
    if (r < 0.35) await this.call('GET /api/users', 'GET', '/api/users?limit=50');
    else if (r < 0.7) await this.call('GET /api/app-profiles', 'GET', '/api/app-profiles?limit=50');
    else if (r < 0.8 || this.present.size === 0) await this.addUser();
    else if (r < 0.9) await this.removeUser();
    else if (r < 0.95) await this.rename();
    else await this.signOutAndIn();
  }

  private async addUser() {
    const email = `load-${this.index}-${this.counter++}@acme-partner.test`;
    const res = await this.call('POST /api/users', 'POST', '/api/users', { signInType: 'local', emails: [email], role: 'member' }).catch(() => null);
    const added = res?.status === 200 ? (res.body.added as { id: string; email: string }[]).find((u) => u.email === email) : undefined;
    if (added) this.present.set(email, added.id);
    else if (!res || res.status >= 500) this.unknown.add(email);
  }

  private async removeUser() {
    const [email, id] = [...this.present][Math.floor(Math.random() * this.present.size)];
    const res = await this.call('POST /api/users/delete', 'POST', '/api/users/delete', { ids: [id] }).catch(() => null);
    if (res?.status === 200 && (res.body.deleted as string[]).includes(id)) {
      this.present.delete(email);
      this.removed.add(email);
    } else if (!res || res.status >= 500) {
      this.present.delete(email);
      this.unknown.add(email);
    }
  }

  private async rename() {
    const name = `Load profile ${this.index} r${this.counter++}`;
    const res = await this.call('PATCH /api/app-profiles/{id}', 'PATCH', `/api/app-profiles/${this.profileId}`, { name }).catch(() => null);
    if (res?.status === 200) this.lastAcknowledgedName = name;
  }

  async signIn(): Promise<number> {
    let busy = 0;
    for (;;) {
      const res = await this.call('POST /api/session', 'POST', '/api/session', { email: this.email, password: PASSWORD });
      if (res.status === 200) return busy;
      const retryAfter = Number(res.headers.get('retry-after'));
      if (res.status !== 503 || res.body?.error?.code !== 'SERVER_BUSY' || !retryAfter) throw new Error(`sign-in answered ${res.status} ${JSON.stringify(res.body)}`);
      busy++;
      await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 * (0.5 + Math.random())));
    }
  }

  private async signOutAndIn() {
    await this.call('DELETE /api/session', 'DELETE', '/api/session');
    await this.signIn();
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] * 10) / 10;
}

export async function runLoad(options: LoadOptions, log: (line: string) => void = () => undefined): Promise<LoadReport> {
  const portal = await startTestPortal(options.engine, { TENANTGATE_INVITATIONS_PER_HOUR: '1000000' });
  try {
    const { db } = portal.services;
    const owner = await signUpPartner(portal.url, 'Load Partners');
    // One real profile through the sandbox; the others are copies of its row with their own tenant id
    // and name (renaming does not talk to Microsoft), one per client so the final names can be checked.
    const real = await new AdminBrowser(owner.client).createProfile('Contoso', { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
    const template = await db.selectFrom('app_profiles').selectAll().where('id', '=', real.profileId!).executeTakeFirstOrThrow();
    const passwordHash = await hashPassword(PASSWORD);
    const now = new Date().toISOString();
    const samples: Sample[] = [];
    const clients: LoadClient[] = [];
    for (let i = 0; i < options.clients; i++) {
      const profileId = randomUUID();
      const name = `Load profile ${i}`;
      await db.insertInto('app_profiles').values({ ...template, id: profileId, name, name_key: name.toLowerCase(), tenant_id: randomUUID() }).execute();
      const email = `load-admin-${i}@acme-partner.test`;
      const userId = randomUUID();
      await db
        .insertInto('users')
        .values({ id: userId, partner_id: owner.partnerId, email, email_key: email, display_name: `Load ${i}`, password_hash: passwordHash, role: 'administrator', is_owner: 0, sign_in_type: 'local', kind: 'user', status: 'active', app_profile_id: null, created_at: now, updated_at: now })
        .execute();
      const client = new LoadClient(portal.url, i, email, profileId, (s) => samples.push(s));
      const session = await portal.services.sessions.create({ partnerId: owner.partnerId, userId, clientAddress: '127.0.0.1' });
      client.api.cookie = session.token;
      client.api.csrfToken = session.csrfToken;
      clients.push(client);
    }
    log(`${options.engine}: ${options.clients} signed-in clients for ${options.seconds} s`);

    const started = performance.now();
    const deadline = started + options.seconds * 1000;
    const failures: string[] = [];
    await Promise.all(
      clients.map(async (client) => {
        while (performance.now() < deadline) {
          try {
            await client.step();
          } catch (error) {
            failures.push(String(error));
            if (!client.api.cookie) await client.signIn().catch(() => undefined);
          }
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    await portal.services.db.selectFrom('users').select('id').limit(1).execute();

    // The final state against the acknowledged answers.
    const inconsistencies: string[] = [...new Set(failures)].slice(0, 10);
    const rows = await db.selectFrom('users').select(['email_key']).where('partner_id', '=', owner.partnerId).where('email_key', 'like', 'load-%').execute();
    const counts = new Map<string, number>();
    for (const row of rows) counts.set(row.email_key, (counts.get(row.email_key) ?? 0) + 1);
    for (const [email, n] of counts) if (n > 1) inconsistencies.push(`${email} stored ${n} times`);
    const profiles = new Map((await db.selectFrom('app_profiles').select(['id', 'name']).where('partner_id', '=', owner.partnerId).execute()).map((p) => [p.id, p.name]));
    for (const client of clients) {
      for (const email of client.present.keys()) if (!counts.has(email)) inconsistencies.push(`${email}: added (200) but missing`);
      for (const email of client.removed) if (counts.has(email) && !client.unknown.has(email)) inconsistencies.push(`${email}: removed (200) but still there`);
      if (profiles.get(client.profileId) !== client.lastAcknowledgedName) inconsistencies.push(`profile ${client.index}: "${profiles.get(client.profileId)}", last acknowledged rename "${client.lastAcknowledgedName}"`);
    }

    const byRoute = new Map<string, Sample[]>();
    for (const s of samples) byRoute.set(s.route, [...(byRoute.get(s.route) ?? []), s]);
    const routes = [...byRoute].map(([route, list]): RouteFigures => {
      const times = list.map((s) => s.ms).sort((a, b) => a - b);
      const statuses: Record<string, number> = {};
      for (const s of list) {
        const key = s.code ? `${s.status} ${s.code}` : String(s.status);
        statuses[key] = (statuses[key] ?? 0) + 1;
      }
      return { route, requests: list.length, perSecond: Math.round((list.length / elapsed) * 10) / 10, p50: percentile(times, 0.5), p95: percentile(times, 0.95), p99: percentile(times, 0.99), statuses };
    });
    routes.sort((a, b) => b.requests - a.requests);
    // Every designed "busy, retry" answer, also those of a sign-in that failed later for another reason.
    const busyRetried = samples.filter((s) => s.status === 503 && s.code === 'SERVER_BUSY').length;
    const serverErrors = samples.filter((s) => s.status === 0 || s.status >= 500).length - busyRetried;
    return { options, requests: samples.length, perSecond: Math.round(samples.length / elapsed), routes, serverErrors, busyRetried, inconsistencies };
  } finally {
    await portal.close();
  }
}

export function formatReport(report: LoadReport): string {
  const { engine, clients, seconds } = report.options;
  const lines = [
    `${engine}, ${clients} clients, ${seconds} s: ${report.requests} requests, ${report.perSecond} req/s, 5xx: ${report.serverErrors}, sign-ins told to wait (503 SERVER_BUSY, retried): ${report.busyRetried}, state: ${report.inconsistencies.length ? report.inconsistencies.join('; ') : 'consistent'}`,
    '',
    '| route | requests | req/s | p50 ms | p95 ms | p99 ms | statuses |',
    '|---|---:|---:|---:|---:|---:|---|',
    ...report.routes.map((r) => `| ${r.route} | ${r.requests} | ${r.perSecond} | ${r.p50} | ${r.p95} | ${r.p99} | ${Object.entries(r.statuses).map(([s, n]) => `${s}: ${n}`).join(', ')} |`),
  ];
  return lines.join('\n');
}
