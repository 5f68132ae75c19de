import type { FastifyInstance } from 'fastify';
import { buildApp } from './app';
import type { Config } from './config';
import { openDatabase, type DatabaseHandle } from './db/database';
import { migrateToLatest } from './db/migrate';
import { CLOUDS, defaultCloudEndpoints, type Cloud, type CloudEndpoints } from './microsoft/clouds';
import { resolveKeyList } from './security/key-file';
import { verifyStoredSecrets } from './security/key-rotation';
import { createSecretBox, parseKeyList } from './security/secret-box';
import { createServices, type MicrosoftSetup, type Services } from './services';
import { startSandboxCloud, type SandboxCloud } from '../sandbox-cloud/index';
import { startBackgroundJobs } from './jobs/background';
import { createMetrics, serveMetrics } from './metrics/index';

export interface RunningPortal {
  app: FastifyInstance;
  url: string;
  config: Config;
  services: Services;
  database: DatabaseHandle;
  sandbox?: SandboxCloud;
  /** `GET /metrics` on METRICS_PORT; undefined when the setting is unset. */
  metricsUrl?: string;
  /**
   * Graceful stop (SIGTERM): stops accepting connections, lets in-flight requests and running jobs
   * finish for at most `graceMs` (10 s), then cuts the remaining connections, releases the job
   * leases, gives the queue's running jobs back (their checkpoints kept), stops the sandbox cloud and
   * closes the database pool.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** How long a stopping instance lets in-flight requests and running jobs finish. */
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Start-up: database and migrations, the sandbox cloud when no Microsoft app is configured, the
 * portal, and its background jobs. main.ts and the test harness both start the portal through here.
 */
export async function startPortal(config: Config, options: { listen?: boolean; backgroundJobs?: boolean; queueWorker?: boolean; sandboxFixture?: unknown; logStream?: NodeJS.WritableStream } = {}): Promise<RunningPortal> {
  const database = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  let sandbox: SandboxCloud | undefined;
  let metricsServer: { url: string; close(): Promise<void> } | undefined;
  try {
    await migrateToLatest(database.db);

    const notices: string[] = [];
    const keys = parseKeyList(resolveKeyList(config, (notice) => notices.push(notice)));
    const secretBox = createSecretBox(keys);
    // A missing or wrong key stops here, before any job or request could touch a stored secret.
    await verifyStoredSecrets(database.db, database.engine, secretBox, [...keys.keys()]);

    let microsoft: MicrosoftSetup;
    let sandboxBaseUrl: string | undefined;
    if (config.sandboxMode) {
      const registration = {
        displayName: 'Tenantgate - User Management',
        redirectUris: [`${config.publicUrl}/auth/microsoft/callback`],
        postLogoutRedirectUris: [`${config.publicUrl}/auth/microsoft/signed-out`],
      };
      let endpoints: Record<Cloud, CloudEndpoints>;
      let app: { clientId: string; clientSecret: string };
      if (config.sandbox.url) {
        // A sandbox cloud running elsewhere: the app is registered through its control endpoint.
        ({ endpoints, app } = await connectToSandbox(config.sandbox.url, registration));
        sandboxBaseUrl = config.sandbox.url;
      } else {
        sandbox = await startSandboxCloud({
          port: config.sandbox.port,
          host: config.sandbox.host,
          allowRemote: config.sandbox.allowRemote,
          fixturePath: config.sandbox.fixturePath,
          fixture: options.sandboxFixture,
          stateDir: config.sandbox.stateDir,
        });
        endpoints = sandbox.clouds;
        // The same registration as before a restart: the refresh tokens the portal holds were issued to it.
        app = sandbox.registerOrReuseApp(registration);
        sandboxBaseUrl = sandbox.baseUrl;
      }
      // The sandbox registers the app in every cloud it emulates.
      microsoft = { endpoints, apps: Object.fromEntries(CLOUDS.map((c) => [c, app])), offeredClouds: offeredClouds(config) };
    } else {
      microsoft = { endpoints: defaultCloudEndpoints(), apps: config.microsoft, offeredClouds: offeredClouds(config).filter((c) => config.microsoft[c]) };
    }

    const metrics = createMetrics();
    metrics.countProfilesFrom(database.db);
    const services = createServices(config, database, { secretBox, microsoft, sandboxBaseUrl, metrics });
    const app = await buildApp(config, services, { logStream: options.logStream });
    for (const notice of notices) app.log.info(notice);

    if (config.metricsPort !== undefined) metricsServer = await serveMetrics(metrics, { port: config.metricsPort, host: config.host });
    let url = config.publicUrl;
    if (options.listen !== false) {
      const address = await app.listen({ port: config.port, host: config.host });
      const port = new URL(address).port;
      url = config.port === 0 ? `http://localhost:${port}` : config.publicUrl;
    } else {
      await app.ready();
    }

    const jobs = options.backgroundJobs === false ? undefined : startBackgroundJobs(config, services, app.log);
    // The durable queue's worker (group member downloads, mail): with the recurring jobs, as it is background
    // work too; `queueWorker` runs it alone (a test harness that drives the recurring jobs itself).
    if (jobs || options.queueWorker) services.jobs.worker.start(app.log);
    return {
      app,
      url,
      config,
      services,
      database,
      sandbox,
      metricsUrl: metricsServer?.url,
      async close({ graceMs = SHUTDOWN_GRACE_MS } = {}) {
        const startedAt = Date.now();
        // A keep-alive connection whose request finished after close() began would hold the server open.
        const closeIdle = setInterval(() => app.server.closeIdleConnections(), 100);
        const cutOff = setTimeout(() => {
          // Past the grace period: answer no more in-flight requests (their clients see the connection end).
          app.log.warn('shutting down: in-flight requests cut off after the grace period');
          app.server.closeAllConnections();
        }, graceMs);
        try {
          await Promise.all([app.close(), jobs?.stop(graceMs), services.jobs.worker.stop(graceMs)]);
        } finally {
          clearInterval(closeIdle);
          clearTimeout(cutOff);
        }
        // The sandbox cloud may itself be answering a cut-off request slowly: it gets what is left of the grace.
        if (sandbox) await Promise.race([sandbox.close(), delay(Math.max(1_000, graceMs - (Date.now() - startedAt)))]);
        await metricsServer?.close();
        await database.close();
      },
    };
  } catch (error) {
    await metricsServer?.close().catch(() => undefined);
    await sandbox?.close().catch(() => undefined);
    await database.close().catch(() => undefined);
    throw error;
  }
}

async function connectToSandbox(baseUrl: string, registration: { displayName: string; redirectUris: string[]; postLogoutRedirectUris: string[] }) {
  try {
    const clouds = await fetch(`${baseUrl}/_sandbox/clouds`, { signal: AbortSignal.timeout(10_000) });
    const registered = await fetch(`${baseUrl}/_sandbox/apps`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...registration, reuseExisting: true }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!clouds.ok || !registered.ok) throw new Error(`answered ${clouds.status} / ${registered.status}`);
    return { endpoints: (await clouds.json()) as Record<Cloud, CloudEndpoints>, app: (await registered.json()) as { clientId: string; clientSecret: string } };
  } catch (error) {
    throw new Error(`The sandbox cloud at TENANTGATE_SANDBOX_URL (${baseUrl}) could not be reached: ${(error as Error).message}`);
  }
}

/** What a person starting the portal must see: sandbox mode, why, and how to leave it. */
export function sandboxBanner(config: Config, sandboxUrl: string): string {
  const lines = [
    'SANDBOX MODE: Microsoft is simulated. Nothing here reaches a real Microsoft 365 tenant, and the simulated',
    '  Microsoft signs in anyone who can reach it, so never expose this portal to real users.',
    `  Why: ${config.sandboxReason ?? 'sandbox mode was asked for'}.`,
    `  Sandbox cloud: ${sandboxUrl}${config.sandbox.url ? '' : config.sandbox.stateDir ? ` (state kept in ${config.sandbox.stateDir})` : ' (state in memory only)'}`,
    '  To leave it: set MICROSOFT_CLIENT_ID, MICROSOFT_CLIENT_SECRET and TENANTGATE_ENCRYPTION_KEYS (see README),',
    '  and TENANTGATE_SANDBOX=off so that a missing Microsoft app stops start-up instead of falling back to the sandbox.',
  ];
  const width = Math.max(...lines.map((l) => l.length));
  const rule = '='.repeat(width);
  return [rule, ...lines, rule].join('\n');
}

/**
 * The clouds a partner may connect: the US Government cloud only in the US Gov Virginia data center; the China
 * cloud wherever its app registration is configured (in sandbox mode always: the sandbox serves it).
 */
function offeredClouds(config: Config): Cloud[] {
  return config.dataCenter === 'us-gov-virginia' ? ['global', 'usgov', 'china'] : ['global', 'china'];
}
