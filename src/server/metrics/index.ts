import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Db } from '../db/database';

/**
 * Prometheus metrics of one portal instance (prom-client). Each instance has its own registry, so
 * several portals in one process (the tests) do not mix; Prometheus sums instances itself.
 * Labels are bounded: route patterns (never raw URLs), clouds, status codes, job names, outcomes.
 */
export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'tenantgate_' });
  const registers = [registry];

  const httpDuration = new Histogram({
    name: 'tenantgate_http_request_duration_seconds',
    help: 'Time to answer HTTP requests, by route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const graphRequests = new Counter({
    name: 'tenantgate_graph_requests_total',
    help: 'Microsoft Graph requests (each attempt), by cloud, HTTP status (0: no answer) and whether Graph throttled it (429)',
    labelNames: ['cloud', 'status', 'throttled'] as const,
    registers,
  });
  const budgetUnits = new Counter({
    name: 'tenantgate_graph_budget_units_total',
    help: 'Graph resource units reserved from the per-tenant budgets, by cloud',
    labelNames: ['cloud'] as const,
    registers,
  });
  const budgetWait = new Counter({
    name: 'tenantgate_graph_budget_wait_seconds_total',
    help: 'Time Graph requests waited for a tenant budget window, by cloud (non-zero: a tenant is at its limit)',
    labelNames: ['cloud'] as const,
    registers,
  });
  const jobRuns = new Counter({
    name: 'tenantgate_job_runs_total',
    help: 'Background job runs on this instance, by job and outcome (success or failure)',
    labelNames: ['job', 'outcome'] as const,
    registers,
  });
  const jobDuration = new Histogram({
    name: 'tenantgate_job_duration_seconds',
    help: 'Background job run time, by job',
    labelNames: ['job'] as const,
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
    registers,
  });
  const signIns = new Counter({
    name: 'tenantgate_sign_ins_total',
    help: 'Portal sign-ins, by method (password, microsoft) and outcome (success, failure)',
    labelNames: ['method', 'outcome'] as const,
    registers,
  });
  const alertsSent = new Counter({
    name: 'tenantgate_alerts_sent_total',
    help: 'Alerts delivered, by channel (portal: shown in the portal list; email: one mail taken by the mail server; webhook: one receiver answered 2xx) and event type',
    labelNames: ['channel', 'type'] as const,
    registers,
  });
  let profileCounts: (() => Promise<{ status: string; count: number }[]>) | undefined;
  new Gauge({
    name: 'tenantgate_app_profiles',
    help: 'App profiles by status, across all partners (read from the database at each scrape)',
    labelNames: ['status'] as const,
    registers,
    async collect() {
      this.reset();
      for (const { status, count } of (await profileCounts?.()) ?? []) this.set({ status }, count);
    },
  });

  return {
    registry,

    /** Times every answer of `app`, labelled by the route's pattern (`unmatched` for 404s without a route). */
    instrument(app: FastifyInstance): void {
      app.addHook('onResponse', async (request, reply) => {
        httpDuration.observe({ method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) }, reply.elapsedTime / 1000);
      });
    },

    /** Profiles by status come from the shared database, so every instance reports the same figures. */
    countProfilesFrom(db: Db): void {
      profileCounts = async () => {
        const rows = await db.selectFrom('app_profiles').select(['status', (eb) => eb.fn.countAll<number | string>().as('n')]).groupBy('status').execute();
        return rows.map((r) => ({ status: r.status, count: Number(r.n) }));
      };
    },

    graphRequest(cloud: string, status: number): void {
      graphRequests.inc({ cloud, status: String(status), throttled: String(status === 429) });
    },
    graphBudget(cloud: string, units: number, waitedMs: number): void {
      budgetUnits.inc({ cloud }, units);
      if (waitedMs > 0) budgetWait.inc({ cloud }, waitedMs / 1000);
    },
    jobRun(job: string, outcome: 'success' | 'failure', seconds: number): void {
      jobRuns.inc({ job, outcome });
      jobDuration.observe({ job }, seconds);
    },
    alertSent(channel: 'portal' | 'email' | 'webhook', type: string): void {
      alertsSent.inc({ channel, type });
    },
    signIn(method: string, outcome: string): void {
      signIns.inc({ method, outcome });
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * `GET /metrics` on its own port (METRICS_PORT), never on the public one: a scraper reaches it on the
 * private network while the load balancer only forwards the portal's port.
 */
export async function serveMetrics(metrics: Metrics, options: { port: number; host: string }): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: GET /metrics\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      (error: Error) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${error.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
