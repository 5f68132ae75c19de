import { CLOUD_INFO, CLOUDS, type Cloud } from './microsoft/clouds';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { sandboxStateDir } from '../sandbox-cloud/persistence';

/**
 * One validated schema for every setting. A wrong value stops start-up with one line that names the
 * variable and what is expected. No secret has a default: sandbox mode generates what it needs.
 */
const port = z.coerce.number().int().min(0).max(65535);
const positiveMinutes = z.coerce.number().positive().max(60 * 24 * 365);
const optionalSecret = z.string().min(1).optional();
const count = z.coerce.number().int().min(1).max(1_000_000);

/**
 * Which `X-Forwarded-For` entries to believe: `false` (none), `true` (one proxy: the entry it appended,
 * never the client's own left-most claims), a hop count, or the proxies' addresses/CIDRs.
 */
const trustProxySchema = z.string().transform((value, ctx): TrustProxy => {
  const v = value.trim().toLowerCase();
  if (v === 'false' || v === '0' || v === 'off' || v === 'no') return false;
  if (v === 'true' || v === 'on' || v === 'yes') return 1;
  if (/^\d{1,2}$/.test(v)) return Number(v);
  const list = v.split(',').map((s) => s.trim()).filter(Boolean);
  if (list.length && list.every(isAddressOrCidr)) return list;
  ctx.addIssue({ code: 'custom', message: 'expected true, false, a hop count, or comma-separated proxy addresses/CIDRs' });
  return z.NEVER;
});

/** `false`, a number of proxy hops, or the proxies' addresses/CIDRs (Fastify's trustProxy). */
export type TrustProxy = false | number | string[];

function isAddressOrCidr(value: string): boolean {
  const [address, bits, extra] = value.split('/');
  const version = isIP(address);
  if (!version || extra !== undefined) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (version === 4 ? 32 : 128);
}

/** The app registration variables of every cloud (`MICROSOFT_CLIENT_ID`, ...), named by its CLOUD_INFO entry. */
const APP_VARIABLES = CLOUDS.map((cloud) => CLOUD_INFO[cloud].env);

const schema = z
  .object({
    PORT: port.default(3000),
    /** Serves GET /metrics (Prometheus) on this port only; unset: no metrics endpoint. */
    METRICS_PORT: port.optional(),
    HOST: z.string().min(1).default('0.0.0.0'),
    PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
    TENANTGATE_DATA_DIR: z.string().min(1).default('./data'),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'a postgres:// connection URL')
      .optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    TRUST_PROXY: trustProxySchema.default(false),
    SESSION_IDLE_TIMEOUT_MINUTES: positiveMinutes.default(480),
    /** Per address and minute: routes that hash a password (sign-up, sign-in, activation). */
    TENANTGATE_RATE_LIMIT_PASSWORD_PER_MINUTE: count.default(10),
    /** Per address and minute: every other route that answers without a session. */
    TENANTGATE_RATE_LIMIT_ANONYMOUS_PER_MINUTE: count.default(60),
    /** Milliseconds a per-address refusal is held before it is answered, pacing floods (0: at once). */
    TENANTGATE_RATE_LIMIT_HOLD_MS: z.coerce.number().int().min(0).max(10_000).default(500),
    /** Password hashes (128 MiB each) run at once; default: half the cores, at least one. */
    TENANTGATE_PASSWORD_HASH_CONCURRENCY: count.max(64).optional(),
    /** Invitations one partner may send per hour. */
    TENANTGATE_INVITATIONS_PER_HOUR: count.default(100),
    /** Password hashes that may wait; past this a request is refused with 503 and Retry-After. */
    TENANTGATE_PASSWORD_HASH_QUEUE: z.coerce.number().int().min(0).max(1000).default(8),
    /** However busy, a session ends this long after sign-in (default 7 days). */
    SESSION_ABSOLUTE_LIFETIME_HOURS: z.coerce.number().positive().max(24 * 365).default(168),
    /** Comma-separated `keyId:base64key` pairs (32-byte keys); the first encrypts, all decrypt. */
    TENANTGATE_ENCRYPTION_KEYS: optionalSecret,
    MICROSOFT_CLIENT_ID: optionalSecret,
    MICROSOFT_CLIENT_SECRET: optionalSecret,
    MICROSOFT_USGOV_CLIENT_ID: optionalSecret,
    MICROSOFT_USGOV_CLIENT_SECRET: optionalSecret,
    /** Microsoft 365 operated by 21Vianet: the app registration made in the Azure portal operated by 21Vianet. */
    MICROSOFT_CHINA_CLIENT_ID: optionalSecret,
    MICROSOFT_CHINA_CLIENT_SECRET: optionalSecret,
    /** Cloud detections (`GET /api/clouds/detect`) one partner may run per minute. */
    TENANTGATE_CLOUD_DETECT_PER_MINUTE: count.default(20),
    TENANTGATE_DATA_CENTER: z.enum(['global', 'us-gov-virginia']).default('global'),
    NODE_ENV: z.string().optional(),
    /** `on`: sandbox mode on purpose (even behind https or in production); `off`: live mode, a missing app is an error. */
    TENANTGATE_SANDBOX: z.enum(['on', 'off']).optional(),
    TENANTGATE_SANDBOX_PORT: port.default(3100),
    TENANTGATE_SANDBOX_HOST: z.string().min(1).default('127.0.0.1'),
    /** The sandbox listens on loopback unless this allows another host (it mints tokens for any tenant and user). */
    TENANTGATE_SANDBOX_ALLOW_REMOTE: z.stringbool().default(false),
    TENANTGATE_SANDBOX_FIXTURE: z.string().min(1).optional(),
    /** Folder of the sandbox's state (default: the data folder's `sandbox/`); `memory` keeps nothing across restarts. */
    TENANTGATE_SANDBOX_STATE: z.string().min(1).optional(),
    /** Use a sandbox cloud that already runs elsewhere (`tsx src/sandbox-cloud/cli.ts`) instead of starting one. */
    TENANTGATE_SANDBOX_URL: z.url({ protocol: /^https?$/ }).optional(),
    TENANTGATE_HEALTH_CHECK_INTERVAL_MINUTES: positiveMinutes.default(24 * 60),
    TENANTGATE_DIRECTORY_SYNC_INTERVAL_MINUTES: positiveMinutes.default(15),
    /** Graph resource units per tenant per 10 s that all instances together may spend (Graph's smallest tenant budget). */
    TENANTGATE_GRAPH_UNITS_PER_10S: z.coerce.number().int().min(1).max(100_000).default(3_500),
    /** How long a background job's lease outlives an instance that died running it (renewed every third of it). */
    TENANTGATE_JOB_LEASE_SECONDS: z.coerce.number().min(3).max(3600).default(60),
    SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
    SMTP_FROM: z.email().optional(),
  })
  .superRefine((env, ctx) => {
    // Each cloud's app registration variables come from its CLOUD_INFO entry.
    const isSet = (name: string) => Boolean((env as Record<string, unknown>)[name]);
    for (const { clientId: id, clientSecret: secret } of APP_VARIABLES) {
      if (isSet(id) !== isSet(secret)) {
        const missing = isSet(id) ? secret : id;
        ctx.addIssue({ code: 'custom', path: [missing], message: `is required when ${missing === id ? secret : id} is set` });
      }
    }
    const live = APP_VARIABLES.some(({ clientId }) => isSet(clientId));
    if (live && !env.TENANTGATE_ENCRYPTION_KEYS) {
      ctx.addIssue({
        code: 'custom',
        path: ['TENANTGATE_ENCRYPTION_KEYS'],
        message: 'is required when a Microsoft app is configured (keyId:base64 of 32 random bytes)',
      });
    }
    for (const issue of sandboxModeIssues(env, Boolean(live))) ctx.addIssue({ code: 'custom', ...issue });
    if (env.TENANTGATE_DATA_CENTER === 'us-gov-virginia' && live && !env.MICROSOFT_USGOV_CLIENT_ID) {
      ctx.addIssue({
        code: 'custom',
        path: ['MICROSOFT_USGOV_CLIENT_ID'],
        message: 'is required in the us-gov-virginia data center when a Microsoft app is configured',
      });
    }
  });

type RawEnv = {
  PUBLIC_URL?: string;
  NODE_ENV?: string;
  TENANTGATE_SANDBOX?: 'on' | 'off';
  TENANTGATE_SANDBOX_HOST: string;
  TENANTGATE_SANDBOX_ALLOW_REMOTE: boolean;
  TENANTGATE_SANDBOX_URL?: string;
};

/**
 * Sandbox mode must not start by accident: the sandbox mints ID tokens for any tenant and user, so a deployment
 * with a mistyped Microsoft variable would trust anyone. It refuses https and production unless asked for.
 */
function sandboxModeIssues(env: RawEnv, live: boolean): { path: string[]; message: string }[] {
  if (env.TENANTGATE_SANDBOX === 'on' && live) {
    return [{ path: ['TENANTGATE_SANDBOX'], message: `is on, but a Microsoft app is configured (${APP_VARIABLES.map((v) => v.clientId).join(' / ')}): remove one of them` }];
  }
  if (env.TENANTGATE_SANDBOX === 'off' && !live) {
    return [{ path: ['MICROSOFT_CLIENT_ID'], message: 'is required when TENANTGATE_SANDBOX=off (live mode): set MICROSOFT_CLIENT_ID, MICROSOFT_CLIENT_SECRET and TENANTGATE_ENCRYPTION_KEYS' }];
  }
  if (live) return [];
  if (env.TENANTGATE_SANDBOX !== 'on') {
    const production = env.NODE_ENV === 'production' ? 'NODE_ENV is production' : env.PUBLIC_URL?.startsWith('https:') ? 'PUBLIC_URL is https' : undefined;
    if (production) {
      return [{
        path: ['MICROSOFT_CLIENT_ID'],
        message: `is not set, so Tenantgate would start in sandbox mode (a simulated Microsoft that signs anyone in), but ${production}. Configure the Microsoft app (MICROSOFT_CLIENT_ID, MICROSOFT_CLIENT_SECRET, TENANTGATE_ENCRYPTION_KEYS), or set TENANTGATE_SANDBOX=on to run the sandbox on purpose`,
      }];
    }
  }
  if (!env.TENANTGATE_SANDBOX_URL && !isLoopback(env.TENANTGATE_SANDBOX_HOST) && !env.TENANTGATE_SANDBOX_ALLOW_REMOTE) {
    return [{ path: ['TENANTGATE_SANDBOX_HOST'], message: `"${env.TENANTGATE_SANDBOX_HOST}" is not a loopback address; the sandbox mints tokens for anyone who reaches it. Set TENANTGATE_SANDBOX_ALLOW_REMOTE=true to allow it` }];
  }
  return [];
}

function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d+\.\d+\.\d+$/.test(bare);
}

export type Env = z.infer<typeof schema>;

export interface Config {
  port: number;
  host: string;
  publicUrl: string;
  secureCookies: boolean;
  dataDir: string;
  databaseUrl?: string;
  logLevel: Env['LOG_LEVEL'];
  trustProxy: TrustProxy;
  sessionIdleTimeoutMs: number;
  rateLimits: { passwordPerMinute: number; otherPerMinute: number; refusalHoldMs: number };
  passwordHashing: { concurrency: number; queue: number };
  invitationsPerHour: number;
  /** Cloud detections one partner may run per minute. */
  cloudDetectPerMinute: number;
  sessionAbsoluteLifetimeMs: number;
  encryptionKeys?: string;
  /** The app registration of each cloud that has one. */
  microsoft: Partial<Record<Cloud, { clientId: string; clientSecret: string }>>;
  /** No Microsoft app configured: the sandbox cloud runs beside the portal and stands in for Microsoft. */
  sandboxMode: boolean;
  /** Why sandbox mode is on (for the start-up banner). */
  sandboxReason?: string;
  dataCenter: Env['TENANTGATE_DATA_CENTER'];
  /** `stateDir` undefined: the sandbox keeps its state in memory only (TENANTGATE_SANDBOX_STATE=memory). */
  sandbox: { port: number; host: string; allowRemote: boolean; fixturePath?: string; url?: string; stateDir?: string };
  healthCheckIntervalMs: number;
  directorySyncIntervalMs: number;
  jobLeaseMs: number;
  graphUnitsPer10s: number;
  smtp?: { url: string; from: string };
  /** Port of the Prometheus endpoint (bound like `host`); undefined: off. */
  metricsPort?: number;
}

export class ConfigError extends Error {}

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings mean "not set", as in most .env files.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue.path[0] ?? 'environment');
    throw new ConfigError(`Invalid setting ${name}: ${describeIssue(issue)}`);
  }
  const env = parsed.data;
  // One app registration per cloud, named by the cloud's entry (CLOUD_INFO[cloud].env).
  const microsoft: Partial<Record<Cloud, { clientId: string; clientSecret: string }>> = {};
  for (const cloud of CLOUDS) {
    const names = CLOUD_INFO[cloud].env as { clientId: keyof typeof env; clientSecret: keyof typeof env };
    const clientId = env[names.clientId];
    if (typeof clientId === 'string' && clientId) microsoft[cloud] = { clientId, clientSecret: String(env[names.clientSecret]) };
  }
  const publicUrl = (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, '');
  const minute = 60_000;
  return {
    port: env.PORT,
    host: env.HOST,
    publicUrl,
    secureCookies: publicUrl.startsWith('https://'),
    dataDir: env.TENANTGATE_DATA_DIR,
    databaseUrl: env.DATABASE_URL,
    logLevel: env.LOG_LEVEL,
    trustProxy: env.TRUST_PROXY,
    sessionIdleTimeoutMs: env.SESSION_IDLE_TIMEOUT_MINUTES * minute,
    rateLimits: {
      passwordPerMinute: env.TENANTGATE_RATE_LIMIT_PASSWORD_PER_MINUTE,
      otherPerMinute: env.TENANTGATE_RATE_LIMIT_ANONYMOUS_PER_MINUTE,
      refusalHoldMs: env.TENANTGATE_RATE_LIMIT_HOLD_MS,
    },
    passwordHashing: {
      concurrency: env.TENANTGATE_PASSWORD_HASH_CONCURRENCY ?? Math.max(1, Math.floor(availableParallelism() / 2)),
      queue: env.TENANTGATE_PASSWORD_HASH_QUEUE,
    },
    invitationsPerHour: env.TENANTGATE_INVITATIONS_PER_HOUR,
    cloudDetectPerMinute: env.TENANTGATE_CLOUD_DETECT_PER_MINUTE,
    sessionAbsoluteLifetimeMs: env.SESSION_ABSOLUTE_LIFETIME_HOURS * 60 * minute,
    encryptionKeys: env.TENANTGATE_ENCRYPTION_KEYS,
    microsoft,
    sandboxMode: Object.keys(microsoft).length === 0,
    sandboxReason:
      Object.keys(microsoft).length > 0
        ? undefined
        : env.TENANTGATE_SANDBOX === 'on'
          ? 'TENANTGATE_SANDBOX=on'
          : 'no Microsoft app is configured (MICROSOFT_CLIENT_ID is not set)',
    dataCenter: env.TENANTGATE_DATA_CENTER,
    sandbox: {
      port: env.TENANTGATE_SANDBOX_PORT,
      host: env.TENANTGATE_SANDBOX_HOST,
      allowRemote: env.TENANTGATE_SANDBOX_ALLOW_REMOTE,
      fixturePath: env.TENANTGATE_SANDBOX_FIXTURE,
      stateDir: sandboxStateDir(env.TENANTGATE_SANDBOX_STATE, env.TENANTGATE_DATA_DIR),
      url: env.TENANTGATE_SANDBOX_URL?.replace(/\/+$/, ''),
    },
    healthCheckIntervalMs: env.TENANTGATE_HEALTH_CHECK_INTERVAL_MINUTES * minute,
    directorySyncIntervalMs: env.TENANTGATE_DIRECTORY_SYNC_INTERVAL_MINUTES * minute,
    jobLeaseMs: env.TENANTGATE_JOB_LEASE_SECONDS * 1000,
    graphUnitsPer10s: env.TENANTGATE_GRAPH_UNITS_PER_10S,
    metricsPort: env.METRICS_PORT,
    smtp: env.SMTP_URL ? { url: env.SMTP_URL, from: env.SMTP_FROM ?? 'tenantgate@localhost' } : undefined,
  };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_value' && 'values' in issue) {
    return `expected one of ${(issue.values as unknown[]).map(String).join(', ')}`;
  }
  return issue.message.replace(/^Invalid input: /, '');
}

/** Fastify's form of the setting: a hop count becomes "trust the nearest n hops". */
export function fastifyTrustProxy(setting: TrustProxy): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof setting === 'number') return setting === 0 ? false : (_address: string, hop: number) => hop < setting;
  return setting;
}
